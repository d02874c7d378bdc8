import { Delivery } from '../../../src/control/delivery.ts';
import { InstanceIdentity, type InstanceSettings } from '../../../src/control/sinks/instance.ts';
import type { SampleSink } from '../../../src/control/sinks/sink.ts';
import { Spool } from '../../../src/control/spool.ts';
import type { HttpRequest, HttpResponse } from '../../../src/host/host.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { recordingLogger, sample } from './fixtures.ts';

/** The CloudWatch and remote-write sinks on a FakeHost: IMDS that answers (or not), a spool, a Delivery. */
export const IMDS = 'http://169.254.169.254';
export const INSTANCE_ID = 'i-0123456789abcdef0';

export interface FakeImds {
  /** Whether IMDS answers at all. */
  up: boolean;
  /** Path → answer; others are 404. */
  readonly paths: Map<string, string>;
}

/** IMDSv2 on the FakeHost: a token first, then reads with it. */
export function fakeImds(host: FakeHost, paths: Record<string, string> = {}): FakeImds {
  const imds: FakeImds = {
    up: true,
    paths: new Map(Object.entries({ '/latest/meta-data/instance-id': INSTANCE_ID, ...paths })),
  };
  host.onHttp((request) => {
    if (!request.url.startsWith(IMDS)) return undefined;
    if (!imds.up) throw new Error('connect EHOSTUNREACH 169.254.169.254:80');
    const path = new URL(request.url).pathname;
    if (request.method === 'PUT' && path === '/latest/api/token') return text(200, 'token');
    const answer = imds.paths.get(path);
    return answer === undefined ? text(404, '') : text(200, answer);
  });
  return imds;
}

export function instanceIdentity(host: FakeHost, settings: Partial<InstanceSettings> = {}) {
  const logger = recordingLogger();
  const identity = new InstanceIdentity(
    host,
    { imdsEndpoint: IMDS, cluster: 'prod', autoScalingGroup: false, ...settings },
    logger,
  );
  return { identity, logger };
}

export function text(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'text/plain', ...headers }, body: new TextEncoder().encode(body) };
}

/** A Delivery of `sink` from a spool on `host`, with a clock the test moves and no jitter. */
export function deliveryOf(host: FakeHost, sink: SampleSink) {
  host.clock = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));
  const logger = recordingLogger();
  const spool = new Spool(host, { dir: '/spool', maxBytes: 2 ** 30, maxAgeMs: 90 * 86_400_000 }, logger);
  const delivery = new Delivery({
    sink,
    spool,
    logger,
    backoff: { baseMs: 10_000, maxMs: 80_000, probeMs: 2000 },
    random: () => 0.5,
    clock: { now: () => host.clock.getTime(), sleep: async () => {} },
  });
  let taken = 0;
  /** `count` more samples, a minute apart, into the spool. */
  const take = async (count = 1): Promise<Sample[]> => {
    await spool.open();
    const taken_: Sample[] = [];
    for (let i = 0; i < count; i++) {
      taken++;
      host.clock = new Date(host.clock.getTime() + 60_000);
      const next = sample(taken, host.clock);
      await spool.append([next]);
      taken_.push(next);
    }
    return taken_;
  };
  const advance = (ms: number) => void (host.clock = new Date(host.clock.getTime() + ms));
  return { spool, delivery, logger, take, advance };
}

/** Requests the FakeHost sent to `url` (IMDS left out). */
export function requestsTo(host: FakeHost, url: string): HttpRequest[] {
  return host.httpCalls.filter((request) => request.url === url);
}
