import type { ListenAddress } from '../core/config/keys.ts';
import type { Host, HttpServer } from '../host/host.ts';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.ts';
import type { Sample } from './sample.ts';

/**
 * METRICS_PROMETHEUS_LISTEN: the latest sample as Prometheus text on a
 * loopback port. A scrape renders what the job sampled last and costs no
 * sampling of its own; before the first sample it answers 503.
 */
export function servePrometheus(host: Host, listen: ListenAddress, latest: () => Sample | null): Promise<HttpServer> {
  return host.serveHttp({ address: listen.address, port: listen.port, maxBodyBytes: 0 }, (request) => {
    const path = request.path.split('?', 1)[0];
    if (path !== '/metrics') return text(404, 'try /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'use GET\n');
    const sample = latest();
    return sample === null ? text(503, 'no sample taken yet\n') : text(200, renderPrometheus(sample), PROMETHEUS_CONTENT_TYPE);
  });
}

function text(status: number, body: string, contentType = 'text/plain; charset=utf-8') {
  return { status, headers: { 'content-type': contentType }, body: new TextEncoder().encode(body) };
}
