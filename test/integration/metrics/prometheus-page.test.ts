/**
 * The Prometheus page with a web config as the exporters read it: HTTPS with a certificate made by openssl,
 * basic_auth_users with hashes made by htpasswd (apache2-utils), client certificates, and a renewed certificate
 * picked up without a restart. The real HTTP(S) server on a loopback port, requests from node:https.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { MetricsRunner } from '../../../src/jobs/metrics.ts';
import { scratchDir } from '../../support/scratch.ts';
import { FACTS, recordingLogger } from '../../unit/control/fixtures.ts';
import { NEW_EC_KEY } from '../doctor/loopback.ts';
import { freePort } from './free-port.ts';

interface Pki {
  readonly dir: string;
  readonly caCert: string;
  /** A server certificate for 127.0.0.1 signed by the CA; `name` picks the file names. */
  server(name: string): { certFile: string; keyFile: string };
  /** A client certificate signed by the CA (or by another CA when `foreign`). */
  client(foreign?: boolean): { cert: string; key: string };
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function pki(t: TestContext): Pki {
  const dir = scratchDir(t, 'eha-pki-');
  const ca = (name: string) => {
    openssl([
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.pem`),
    ]);
  };
  ca('test-ca');
  ca('other-ca');
  const signed = (name: string, ca: string, extension: string) => {
    const [key, csr, cert, ext] = ['key', 'csr', 'pem', 'ext'].map((suffix) => join(dir, `${name}.${suffix}`)) as [
      string,
      string,
      string,
      string,
    ];
    writeFileSync(ext, extension);
    openssl(['req', ...NEW_EC_KEY, '-subj', `/CN=${name}`, '-keyout', key, '-out', csr]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(dir, `${ca}.pem`),
      '-CAkey',
      join(dir, `${ca}.key`),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      ext,
      '-out',
      cert,
    ]);
    return { certFile: cert, keyFile: key };
  };
  return {
    dir,
    caCert: readFileSync(join(dir, 'test-ca.pem'), 'utf8'),
    server: (name) => signed(name, 'test-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'),
    client: (foreign = false) => {
      const files = signed(
        foreign ? 'intruder' : 'scraper',
        foreign ? 'other-ca' : 'test-ca',
        'extendedKeyUsage=clientAuth\n',
      );
      return { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
    },
  };
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly serialNumber: string;
}

function scrape(url: string, ca: string, options: { auth?: string; cert?: string; key?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers =
      options.auth === undefined ? {} : { authorization: `Basic ${Buffer.from(options.auth).toString('base64')}` };
    const outgoing = request(
      `${url}/metrics`,
      { ca, headers, agent: false, ...(options.cert ? { cert: options.cert, key: options.key } : {}) },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const serialNumber = (
            incoming.socket as unknown as { getPeerCertificate(): { serialNumber: string } }
          ).getPeerCertificate().serialNumber;
          resolve({
            status: incoming.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: incoming.headers,
            serialNumber,
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function htpasswd(user: string, password: string): string {
  const line = execFileSync('htpasswd', ['-nbBC', '10', user, password], { encoding: 'utf8' }).trim();
  return line.slice(line.indexOf(':') + 1);
}

async function page(t: TestContext, dir: string, webConfig: string, extra: Record<string, string> = {}) {
  const env = {
    METRICS_SINK_FILE: join(dir, 'metrics.ndjson'),
    METRICS_PROMETHEUS_LISTEN: `127.0.0.1:${await freePort()}`,
    METRICS_PROMETHEUS_WEB_CONFIG: webConfig,
    INTROSPECTION_URL: 'http://127.0.0.1:9',
    METRICS_DOCKER_SOCKET: join(dir, 'no-docker.sock'),
    CONTROL_IDENTITY: 'no',
    ...extra,
  };
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  const host = new RealHost('/');
  const logger = recordingLogger();
  const runner = await MetricsRunner.create(host, config, logger, { hostFacts: FACTS });
  t.after(() => runner.close());
  const server = await runner.serve(host, config);
  assert.ok(server);
  await runner.step();
  return { url: server.url, runner, logger };
}

test('HTTPS and basic auth: htpasswd hashes work, anyone else gets 401, the certificate verifies', async (t) => {
  const keys = pki(t);
  const { certFile, keyFile } = keys.server('server');
  const webConfig = join(keys.dir, 'web.yml');
  writeFileSync(
    webConfig,
    [
      'tls_server_config:',
      `  cert_file: ${certFile}`,
      '  key_file: server.key # relative to this file, as the exporters read it',
      'basic_auth_users:',
      `  prometheus: ${htpasswd('prometheus', 'correct horse')}`,
      `  other: ${htpasswd('other', 'battery staple')}`,
      '',
    ].join('\n'),
  );
  assert.equal(keyFile, join(keys.dir, 'server.key'));
  const { url } = await page(t, keys.dir, webConfig);
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const ok = await scrape(url, keys.caCert, { auth: 'prometheus:correct horse' });
  assert.equal(ok.status, 200);
  assert.match(ok.body, /^ecs_host_memory_bytes\{kind="total"\} \d+$/m);
  assert.equal(
    (await scrape(url, keys.caCert, { auth: 'prometheus:correct horse' })).status,
    200,
    'again (the remembered check)',
  );
  for (const auth of [undefined, 'prometheus:wrong', 'nobody:correct horse', 'other:correct horse']) {
    const denied = await scrape(url, keys.caCert, auth === undefined ? {} : { auth });
    assert.equal(denied.status, 401, String(auth));
    assert.equal(denied.headers['www-authenticate'], 'Basic realm="ecs-host-agent", charset="UTF-8"');
    assert.doesNotMatch(denied.body, /ecs_host_/);
  }
  await assert.rejects(
    scrape(url, readFileSync(join(keys.dir, 'other-ca.pem'), 'utf8')),
    /self[- ]signed|unable to verify|certificate/i,
  );
});

test("client certificates: only the client CA's get the page; a renewed certificate is served at once", async (t) => {
  const keys = pki(t);
  const first = keys.server('first');
  const webConfig = join(keys.dir, 'web.yml');
  const write = (files: { certFile: string; keyFile: string }) =>
    writeFileSync(
      webConfig,
      [
        'tls_server_config:',
        `  cert_file: ${files.certFile}`,
        `  key_file: ${files.keyFile}`,
        '  client_auth_type: RequireAndVerifyClientCert',
        `  client_ca_file: ${join(keys.dir, 'test-ca.pem')}`,
        '  min_version: TLS13',
        '',
      ].join('\n'),
    );
  write(first);
  // Beyond loopback is allowed by such a config; the test listens on loopback all the same (no traffic leaves it).
  const { url, runner, logger } = await page(t, keys.dir, webConfig);
  const client = keys.client();
  const before = await scrape(url, keys.caCert, client);
  assert.equal(before.status, 200);
  await assert.rejects(
    scrape(url, keys.caCert),
    /certificate|handshake|socket hang up|ECONNRESET/i,
    'no client certificate',
  );
  await assert.rejects(
    scrape(url, keys.caCert, keys.client(true)),
    /certificate|unknown ca|socket hang up|ECONNRESET/i,
    'a client certificate of another CA',
  );

  const renewed = keys.server('renewed');
  write(renewed);
  await runner.step(); // each sample checks the web config's files
  const after = await scrape(url, keys.caCert, client);
  assert.equal(after.status, 200);
  assert.notEqual(after.serialNumber, before.serialNumber, 'the renewed certificate is served');
  assert.ok(logger.lines.some((line) => /METRICS_PROMETHEUS_WEB_CONFIG .* read again/.test(line)));

  writeFileSync(webConfig, 'tls_server_config: [\n');
  await runner.step();
  assert.equal((await scrape(url, keys.caCert, client)).status, 200, 'a broken change keeps the last good config');
  assert.ok(
    logger.lines.some((line) =>
      /^error: METRICS_PROMETHEUS_WEB_CONFIG .* changed but is not used: .* is not valid YAML/.test(line),
    ),
  );
});
