/**
 * The real Host's TLS probe against loopback servers: a self-signed
 * endpoint (reached, certificate not trusted), a CONNECT proxy, a closed port,
 * a server that never answers, and a proxy that refuses the tunnel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RealHost } from '../../../src/host/real-host.ts';
import { selfSignedCertificate, startConnectProxy, startSilentServer, startTlsEndpoint } from './loopback.ts';

const host = new RealHost('/');

test('a direct handshake reaches the endpoint and reports the untrusted certificate', async (t) => {
  const endpoint = await startTlsEndpoint(t, selfSignedCertificate(t));
  const result = await host.tlsProbe({ host: '127.0.0.1', port: endpoint.port, proxy: null, timeoutMs: 5000 });
  assert.match(result.protocol ?? '', /^TLSv1\.[23]$/);
  assert.match(result.certificateError ?? '', /SELF_SIGNED/);
});

test('through an HTTP proxy with CONNECT', async (t) => {
  const endpoint = await startTlsEndpoint(t, selfSignedCertificate(t));
  const proxy = await startConnectProxy(t);
  const result = await host.tlsProbe({
    host: '127.0.0.1',
    port: endpoint.port,
    proxy: `http://user:pw@127.0.0.1:${proxy.port}`,
    timeoutMs: 5000,
  });
  assert.match(result.protocol ?? '', /^TLSv1/);
  assert.deepEqual(proxy.tunnels, [`127.0.0.1:${endpoint.port}`]);
});

test('each failure names its stage: TCP connect, proxy CONNECT, or the deadline', async (t) => {
  const silent = await startSilentServer(t);
  const refusing = await startConnectProxy(t, true);
  const closed = await startSilentServer(t);
  await new Promise<void>((resolve) => setImmediate(resolve));
  await assert.rejects(
    host.tlsProbe({ host: '127.0.0.1', port: 1, proxy: null, timeoutMs: 5000 }),
    /^Error: TCP connect to 127\.0\.0\.1:1 failed: .*ECONNREFUSED/,
  );
  await assert.rejects(
    host.tlsProbe({ host: '127.0.0.1', port: closed.port, proxy: refusing.url, timeoutMs: 5000 }),
    /proxy CONNECT to 127\.0\.0\.1:\d+ via 127\.0\.0\.1:\d+ failed: the proxy answered "HTTP\/1\.1 403 Forbidden"/,
  );
  await assert.rejects(
    host.tlsProbe({ host: '127.0.0.1', port: silent.port, proxy: null, timeoutMs: 300 }),
    /no answer within 300 ms/,
  );
});
