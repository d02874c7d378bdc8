import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';

import { uncompress } from 'snappyjs';

import type { RemoteWriteAuthSettings } from '../../../src/control/sinks/remote-write/auth.ts';
import {
  REMOTE_WRITE_HEADERS,
  RemoteWriteSink,
  remoteWriteSettings,
} from '../../../src/control/sinks/remote-write/sink.ts';
import {
  encodeWriteRequest,
  seriesOf,
  writeRequestType,
} from '../../../src/control/sinks/remote-write/write-request.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import type { HttpRequest, HttpResponse } from '../../../src/host/host.ts';
import { prometheusFamilies, renderPrometheus } from '../../../src/metrics/prometheus.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { config, sample } from './fixtures.ts';
import { deliveryOf, fakeImds, INSTANCE_ID, instanceIdentity, requestsTo, text } from './sink-fixtures.ts';

const URL_RW = 'https://metrics.example/api/v1/write';
const INSTANCE = { instance_id: INSTANCE_ID, cluster: 'prod' };

/** A sample with something in every family: disks (Btrfs), a volume, a NIC, a container, the ECS agent. */
function fullSample(index: number): Sample {
  const base = sample(index);
  return {
    ...base,
    disks: [
      {
        mount: '/var/lib/docker',
        device: '/dev/loop0',
        fsType: 'btrfs',
        totalBytes: 100,
        usedBytes: 40,
        freeBytes: 50,
        inodesTotal: 0,
        inodesFree: 0,
        btrfs: {
          dataTotal: 30,
          dataUsed: 20,
          metadataTotal: 10,
          metadataUsed: 5,
          deviceBytes: 100,
          unallocatedBytes: 60,
        },
      },
    ],
    volumes: [
      {
        mountPoint: '/data',
        volume: 'vol-0123456789abcdef0',
        mounted: true,
        device: '/dev/nvme1n1',
        totalBytes: 10,
        usedBytes: 1,
        freeBytes: 9,
      },
    ],
    network: [
      {
        name: 'eth0',
        rxBytes: 1,
        rxPackets: 2,
        rxErrors: 0,
        rxDropped: 0,
        txBytes: 3,
        txPackets: 4,
        txErrors: 0,
        txDropped: 0,
      },
    ],
    docker: {
      running: 1,
      containers: [
        {
          id: 'a'.repeat(64),
          name: 'web "1"',
          image: 'nginx',
          taskArn: null,
          cpuSeconds: 1.5,
          cpuPercent: 2,
          memoryBytes: 7,
          memoryLimitBytes: 8,
        },
      ],
    },
    ecs: { agentAnswering: true, cluster: 'prod', containerInstanceArn: 'arn', runningTasks: 3 },
  };
}

/** Decodes a request body the way a receiver does: snappy block format, then the WriteRequest message. */
function decodeBody(body: Uint8Array): {
  timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
} {
  const type = writeRequestType();
  return type.toObject(type.decode(uncompress(body)), { longs: Number, defaults: true }) as ReturnType<
    typeof decodeBody
  >;
}

test("a WriteRequest round-trips through snappy and the protobuf decoder: the page's families, sorted labels", () => {
  const samples = [fullSample(1), fullSample(2)];
  const series = seriesOf(samples, INSTANCE);
  const decoded = decodeBody(encodeWriteRequest(series));
  assert.deepEqual(
    decoded.timeseries,
    series.map((s) => ({ labels: s.labels, samples: s.samples })),
  );

  const names = new Set(decoded.timeseries.map((s) => s.labels.find((l) => l.name === '__name__')?.value));
  const pageNames = new Set(prometheusFamilies(samples[0] as Sample).map((family) => family.name));
  assert.deepEqual(names, pageNames, 'the same ecs_host_* families as the scrape page');
  for (const s of decoded.timeseries) {
    const labelNames = s.labels.map((l) => l.name);
    assert.deepEqual(labelNames, [...labelNames].sort(), 'labels sorted by name');
    assert.ok(labelNames.includes('instance_id') && labelNames.includes('cluster'));
    assert.deepEqual(
      s.samples.map((p) => p.timestamp),
      samples.map((x) => Date.parse(x.time)),
      'one point per sample, oldest first',
    );
  }
  const idle = decoded.timeseries.find((s) => s.labels.some((l) => l.name === 'mode' && l.value === 'idle'));
  assert.deepEqual(idle?.labels, [
    { name: '__name__', value: 'ecs_host_cpu_percent' },
    { name: 'cluster', value: 'prod' },
    { name: 'instance_id', value: INSTANCE_ID },
    { name: 'mode', value: 'idle' },
  ]);
  assert.deepEqual(
    idle?.samples.map((p) => p.value),
    [98, 98],
  );
  const container = decoded.timeseries.find((s) => s.labels.some((l) => l.value === 'ecs_host_container_memory_bytes'));
  assert.ok(
    container?.labels.some((l) => l.name === 'name' && l.value === 'web "1"'),
    'label values as they are, not escaped',
  );
  assert.match(renderPrometheus(samples[0] as Sample), /ecs_host_container_memory_bytes\{name="web \\"1\\""/);
});

function remoteWrite(
  auth: RemoteWriteAuthSettings = { kind: 'none' },
  reply: (request: HttpRequest) => HttpResponse = () => text(204, ''),
) {
  const host = new FakeHost();
  const imds = fakeImds(host);
  host.onHttp((request) => (request.url === URL_RW ? reply(request) : undefined));
  const { identity } = instanceIdentity(host);
  const sink = new RemoteWriteSink(host, { url: URL_RW, auth, caBundle: null }, identity);
  return { host, imds, sink, ...deliveryOf(host, sink) };
}

test('requests carry the remote write 1.0 headers, the system CAs, and decode to what was taken', async () => {
  const { host, take, delivery } = remoteWrite();
  const taken = await take(3);
  const round = await delivery.round();
  assert.equal(round.delivered, 3);
  const [request] = requestsTo(host, URL_RW);
  assert.equal(request?.method, 'POST');
  assert.deepEqual(
    Object.fromEntries(Object.entries(request?.headers ?? {}).filter(([name]) => name in REMOTE_WRITE_HEADERS)),
    {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': REMOTE_WRITE_HEADERS['user-agent'],
    },
  );
  assert.match(REMOTE_WRITE_HEADERS['user-agent'], /^ecs-host-agent\/\d+\.\d+\.\d+/);
  assert.equal(request?.ca, 'system');
  const decoded = decodeBody(request?.body as Uint8Array);
  const load1 = decoded.timeseries.find((s) => s.labels.some((l) => l.name === 'period' && l.value === '1m'));
  assert.deepEqual(
    load1?.samples.map((p) => p.timestamp),
    taken.map((s) => Date.parse(s.time)),
  );
});

test('batches stay within the samples per request: 60 samples go as 25, 25 and 10', async () => {
  const { host, take, delivery } = remoteWrite();
  await take(60);
  await delivery.round();
  const sizes = requestsTo(host, URL_RW).map((r) => decodeBody(r.body as Uint8Array).timeseries[0]?.samples.length);
  assert.deepEqual(sizes, [25, 25, 10]);
});

test('5xx and 429 are retried with backoff (Retry-After honoured); nothing is dropped', async () => {
  let answer: HttpResponse = text(500, 'boom');
  const { host, take, delivery, advance, spool } = remoteWrite({ kind: 'none' }, () => answer);
  await take(2);
  const failed = await delivery.round();
  assert.equal(failed.state.consecutiveFailures, 1);
  assert.match(failed.state.lastError ?? '', /HTTP 500: "boom"/);
  assert.equal(spool.status().pendingSamples, 2);
  answer = text(429, 'slow down', { 'retry-after': '120' });
  advance(10_000);
  const throttled = await delivery.round();
  assert.equal(throttled.state.backingOffUntil, new Date(host.clock.getTime() + 120_000).toISOString());
  answer = text(200, '');
  advance(119_000);
  assert.equal((await delivery.round()).tried, false, 'not before the Retry-After time');
  advance(1000);
  const delivered = await delivery.round();
  assert.equal(delivered.delivered, 2);
  assert.equal(spool.status().rejectedSamples, 0);
});

test('a 400 is about a sample: the batch is halved until the refused one is found, dropped and counted', async () => {
  const { take, delivery, spool, logger, host } = remoteWrite({ kind: 'none' }, (request) => {
    const times = decodeBody(request.body as Uint8Array).timeseries[0]?.samples.map((p) => p.timestamp) ?? [];
    return times.includes(Date.parse(sample(3, new Date(Date.UTC(2026, 10, 22, 12, 3, 0))).time))
      ? text(400, 'out of order sample')
      : text(204, '');
  });
  await take(4);
  const round = await delivery.round();
  assert.equal(round.delivered, 3);
  assert.equal(spool.status().rejectedSamples, 1);
  assert.equal(spool.status().pendingSamples, 0);
  assert.ok(
    logger.lines.some((line) =>
      /^error: the remote write endpoint .* refused a sample of \d+ bytes as invalid/.test(line),
    ),
  );
  assert.equal(requestsTo(host, URL_RW).length, 5, '4, then 2 + 2, then 1 + 1');
});

test('a 401 or 404 refuses the request whatever it holds: dropped and counted at once, not halved', async () => {
  for (const status of [401, 404]) {
    const { take, delivery, spool, logger, host } = remoteWrite({ kind: 'none' }, () => text(status, 'no'));
    await take(4);
    await delivery.round();
    assert.equal(requestsTo(host, URL_RW).length, 1);
    assert.equal(spool.status().rejectedSamples, 4);
    assert.equal(spool.status().pendingSamples, 0);
    assert.ok(
      logger.lines.some(
        (line) => line.startsWith('error: the remote write endpoint') && line.includes(`HTTP ${status}`),
      ),
    );
  }
});

test('a 413 halves the batch; later batches start at the size that fitted', async () => {
  const { take, delivery, host, spool } = remoteWrite({ kind: 'none' }, (request) =>
    (decodeBody(request.body as Uint8Array).timeseries[0]?.samples.length ?? 0) > 5
      ? text(413, 'too big')
      : text(204, ''),
  );
  await take(20);
  await delivery.round();
  assert.equal(spool.status().pendingSamples, 0);
  const before = requestsTo(host, URL_RW).length;
  await take(20);
  await delivery.round();
  const sizes = requestsTo(host, URL_RW)
    .slice(before)
    .map((r) => decodeBody(r.body as Uint8Array).timeseries[0]?.samples.length);
  assert.ok(
    sizes.every((size) => (size ?? 0) <= 5),
    `no request over the size that fitted: ${sizes.join(',')}`,
  );
});

test('an endpoint that is down: the samples wait; a probe that gets any answer ends the backoff', async () => {
  let down = true;
  const { host, take, delivery, advance } = remoteWrite({ kind: 'none' }, (request) => {
    if (down) throw new Error('connect ECONNREFUSED');
    return request.method === 'GET' ? text(405, 'method not allowed') : text(204, '');
  });
  await take(1);
  const failed = await delivery.round();
  assert.match(failed.state.lastError ?? '', /POST failed: connect ECONNREFUSED/);
  down = false;
  advance(2000);
  assert.equal(await delivery.probe(), true);
  assert.equal((await delivery.round()).delivered, 1);
  assert.ok(requestsTo(host, URL_RW).some((r) => r.method === 'GET'));
});

test('until IMDS gives the instance id nothing is sent: the samples wait, then go with it', async () => {
  const { host, imds, take, delivery, advance } = remoteWrite();
  imds.up = false;
  await take(1);
  const waiting = await delivery.round();
  assert.match(waiting.state.lastError ?? '', /the instance id is not known yet: IMDS at .* did not answer/);
  assert.equal(requestsTo(host, URL_RW).length, 0);
  imds.up = true;
  advance(10_000);
  assert.equal((await delivery.round()).delivered, 1);
});

test('bearer token and basic auth come from root-only files, read for every request', async () => {
  const bearer = remoteWrite({ kind: 'bearer', file: '/etc/rw.token' });
  bearer.host.putFile('/etc/rw.token', 'tok.EN-1\n', 0o600);
  await bearer.take(1);
  await bearer.delivery.round();
  bearer.host.putFile('/etc/rw.token', 'rotated\n', 0o600);
  await bearer.take(1);
  await bearer.delivery.round();
  assert.deepEqual(
    requestsTo(bearer.host, URL_RW).map((r) => r.headers?.authorization),
    ['Bearer tok.EN-1', 'Bearer rotated'],
  );

  const basic = remoteWrite({ kind: 'basic', file: '/etc/rw.basic' });
  basic.host.putFile('/etc/rw.basic', 'agent:p@ss:word\n', 0o600);
  await basic.sink.checkCredentials();
  await basic.take(1);
  await basic.delivery.round();
  assert.equal(
    requestsTo(basic.host, URL_RW)[0]?.headers?.authorization,
    `Basic ${Buffer.from('agent:p@ss:word').toString('base64')}`,
  );
});

test('an unsafe or malformed credentials file is a configuration error naming the key and the fix', async () => {
  const cases: [RemoteWriteAuthSettings, string, number, RegExp][] = [
    [
      { kind: 'bearer', file: '/etc/rw.token' },
      'tok',
      0o644,
      /METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE \/etc\/rw\.token is mode 0644 .* chmod 600/,
    ],
    [
      { kind: 'basic', file: '/etc/rw.basic' },
      'no-colon',
      0o600,
      /METRICS_REMOTE_WRITE_BASIC_AUTH_FILE \/etc\/rw\.basic does not hold one line USER:PASSWORD/,
    ],
    [{ kind: 'basic', file: '/etc/rw.basic' }, 'a:b\nc:d\n', 0o600, /does not hold one line USER:PASSWORD/],
  ];
  for (const [auth, content, mode, message] of cases) {
    const { host, sink } = remoteWrite(auth);
    host.putFile(auth.kind === 'none' || auth.kind === 'sigv4' ? '' : auth.file, content, mode);
    await assert.rejects(
      sink.checkCredentials(),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
    );
  }
  const missing = remoteWrite({ kind: 'bearer', file: '/etc/none' });
  await assert.rejects(
    missing.sink.checkCredentials(),
    /METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE \/etc\/none does not exist/,
  );
});

test('SigV4: the request is signed for aps in the workspace region, and the signature verifies', async (t) => {
  const saved = { ...process.env };
  t.after(() => {
    process.env = saved;
  });
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'session-token',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  const url = 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234/api/v1/remote_write';
  const host = new FakeHost();
  fakeImds(host);
  host.onHttp((request) => (request.url === url ? text(200, '') : undefined));
  const { identity } = instanceIdentity(host);
  const region = async () => 'eu-west-1';
  const sink = new RemoteWriteSink(host, { url, auth: { kind: 'sigv4', region }, caBundle: null }, identity);
  const { take, delivery } = deliveryOf(host, sink);
  await take(1);
  assert.equal((await delivery.round()).delivered, 1);
  const request = requestsTo(host, url)[0] as HttpRequest;
  const headers = request.headers ?? {};
  assert.equal(headers['x-amz-security-token'], 'session-token');
  assert.match(
    headers.authorization ?? '',
    new RegExp(
      '^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\\d{8}/eu-west-1/aps/aws4_request, ' +
        'SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$',
    ),
  );
  assert.equal(
    verifySigV4(request, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'),
    true,
    'an independent SigV4 check accepts it',
  );
  const tampered = { ...request, body: new Uint8Array([...(request.body as Uint8Array), 0]) };
  assert.equal(verifySigV4(tampered, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'), false, 'and refuses a changed body');
});

/** SigV4 as AWS checks it (the signing algorithm from AWS's documentation, written out here). */
function verifySigV4(request: HttpRequest, secret: string): boolean {
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const url = new URL(request.url);
  const all: Record<string, string> = { ...headers, host: url.host };
  const [, credential, signed, signature] =
    /Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(headers.authorization ?? '') ?? [];
  const [, date, region, service] = (credential ?? '').split('/');
  const names = (signed ?? '').split(';');
  const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
  const canonical = [
    request.method,
    url.pathname,
    '',
    ...names.map((name) => `${name}:${(all[name] ?? '').trim().replace(/\s+/g, ' ')}`),
    '',
    signed,
    sha256(request.body ?? ''),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', headers['x-amz-date'], scope, sha256(canonical)].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date ?? ''), region ?? ''), service ?? ''), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex') === signature;
}

test('HTTPS trusts METRICS_REMOTE_WRITE_CA_BUNDLE alone; a bundle without a certificate stops', async () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const host = new FakeHost({ '/etc/rw-ca.pem': pem, '/etc/empty.pem': '' });
  fakeImds(host);
  host.onHttp((request) => (request.url === URL_RW ? text(204, '') : undefined));
  const { identity } = instanceIdentity(host);
  const trusted = new RemoteWriteSink(
    host,
    { url: URL_RW, auth: { kind: 'none' }, caBundle: '/etc/rw-ca.pem' },
    identity,
  );
  assert.equal((await trusted.send([sample(1)])).kind, 'delivered');
  assert.equal(requestsTo(host, URL_RW)[0]?.ca, pem);
  const broken = new RemoteWriteSink(
    host,
    { url: URL_RW, auth: { kind: 'none' }, caBundle: '/etc/empty.pem' },
    identity,
  );
  await assert.rejects(broken.send([sample(2)]), (error: unknown) => {
    return (
      error instanceof ConfigError &&
      /METRICS_REMOTE_WRITE_CA_BUNDLE \/etc\/empty\.pem .* no PEM certificate/.test(error.message)
    );
  });
});

test('settings: plain http beyond loopback, or two ways to authenticate, stop the agent (exit 78)', async () => {
  const region = async () => 'eu-west-1';
  const beyond = config({ METRICS_REMOTE_WRITE_URL: 'http://metrics.example/api/v1/write' });
  assert.throws(
    () => remoteWriteSettings(beyond, region),
    /is plain http to a host that is not loopback.*ALLOW_HTTP=yes/,
  );
  const allowed = config({
    METRICS_REMOTE_WRITE_URL: 'http://metrics.example/w',
    METRICS_REMOTE_WRITE_ALLOW_HTTP: 'yes',
  });
  assert.equal(remoteWriteSettings(allowed, region)?.url, 'http://metrics.example/w');
  assert.equal(
    remoteWriteSettings(config({ METRICS_REMOTE_WRITE_URL: 'http://127.0.0.1:9090/api/v1/write' }), region)?.auth.kind,
    'none',
  );
  assert.equal(remoteWriteSettings(config(), region), null);
  const both = {
    METRICS_REMOTE_WRITE_URL: URL_RW,
    METRICS_REMOTE_WRITE_SIGV4: 'yes',
    METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE: '/t',
  };
  assert.throws(
    () => config(both),
    (error: unknown) => {
      const { message, exitCode } = error as ConfigError;
      return (
        exitCode === 78 &&
        /BEARER_TOKEN_FILE \(environment\) and METRICS_REMOTE_WRITE_SIGV4 .* authenticates one way/.test(message)
      );
    },
  );
  const workspace = 'https://aps-workspaces.ap-southeast-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write';
  const sigv4 = remoteWriteSettings(
    config({ METRICS_REMOTE_WRITE_URL: workspace, METRICS_REMOTE_WRITE_SIGV4: 'yes' }),
    region,
  );
  assert.equal(sigv4?.auth.kind === 'sigv4' && (await sigv4.auth.region()), 'ap-southeast-2', "the workspace's region");
});
