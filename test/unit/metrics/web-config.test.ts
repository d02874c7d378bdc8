import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { PrometheusEndpoint } from '../../../src/metrics/prometheus-endpoint.ts';
import { parseWebConfig } from '../../../src/metrics/web-config.ts';
import { FakeHost } from '../../support/fake-host.ts';

const HASH = '$2y$10$9GU1ogJljy8FwDR.gqEPUeZbWip/qE/yICKPfGEPGzzTiGqRakBwe';
const PATH = '/etc/ecs-host-agent/web.yml';
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n';

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof ConfigError && error.exitCode === 78 && pattern.test(error.message);

test("the exporters' web config: users, TLS files relative to the config file, defaults", async () => {
  const config = await parseWebConfig(
    `tls_server_config:\n  cert_file: tls/cert.pem\n  key_file: /keys/key.pem\nbasic_auth_users:\n  prom: ${HASH}\n`,
    PATH,
  );
  assert.deepEqual(config.tls, {
    certFile: '/etc/ecs-host-agent/tls/cert.pem',
    keyFile: '/keys/key.pem',
    clientCaFile: null,
    minVersion: 'TLSv1.2',
  });
  assert.deepEqual([...config.users], [['prom', HASH]]);
  assert.deepEqual(
    await parseWebConfig('', PATH),
    { tls: null, users: new Map() },
    'an empty file is an empty config, as for the exporters',
  );
});

test('what the agent does not support or cannot use is refused by name, never ignored', async () => {
  const cases: [string, RegExp][] = [
    [
      'http_server_config:\n  http2: false\n',
      /http_server_config is not supported by ecs-host-agent; supported: tls_server_config, basic_auth_users/,
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n',
      /tls_server_config\.cipher_suites is not supported/,
    ],
    ['tls_server_config:\n  cert_file: a\n', /tls_server_config needs cert_file and key_file/],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n',
      /min_version="TLS10" is not supported; allowed: TLS12, TLS13/,
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAnyClientCert\n',
      /client_auth_type="RequireAnyClientCert" is not supported/,
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
      /RequireAndVerifyClientCert and client_ca_file go together/,
    ],
    [
      'basic_auth_users:\n  prom: secret\n',
      /basic_auth_users\.prom is not a bcrypt hash; allowed: a hash from htpasswd/,
    ],
    ['basic_auth_users:\n  prom: a\n  prom: b\n', /is not valid YAML: .*[Uu]nique/],
    ['- a list\n', /the document is not a mapping/],
  ];
  for (const [text, message] of cases) await assert.rejects(parseWebConfig(text, PATH), refused(message), text);
});

function config(env: Record<string, string>) {
  return loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
}

test('beyond loopback the page needs a web config that authenticates, and TLS unless http is allowed', async () => {
  assert.throws(
    () => config({ METRICS_PROMETHEUS_LISTEN: '0.0.0.0:9101' }),
    refused(/beyond loopback \(0\.0\.0\.0\) without METRICS_PROMETHEUS_WEB_CONFIG/),
  );
  assert.throws(() => config({ METRICS_PROMETHEUS_LISTEN: 'example.com:9101' }), refused(/is not a listen address/));
  assert.equal(
    config({ METRICS_PROMETHEUS_LISTEN: '9101' }).METRICS_PROMETHEUS_LISTEN?.address,
    '127.0.0.1',
    'a port alone is loopback',
  );
  assert.equal(config({ METRICS_PROMETHEUS_LISTEN: '[::1]:9101' }).METRICS_PROMETHEUS_LISTEN?.address, '::1');

  const start = async (text: string, allowHttp = false, address = '10.0.0.5') => {
    const host = new FakeHost({ [PATH]: text, '/etc/c.pem': PEM_CERT, '/etc/k.pem': PEM_KEY });
    const settings = { listen: { address, port: 9101 }, webConfig: PATH, allowHttp };
    return PrometheusEndpoint.start(host, settings, () => null, silentLogger);
  };
  const tls = 'tls_server_config:\n  cert_file: /etc/c.pem\n  key_file: /etc/k.pem\n';
  await assert.rejects(start(tls), refused(/authenticates nobody: add basic_auth_users, or client certificates/));
  await assert.rejects(
    start(`basic_auth_users:\n  prom: ${HASH}\n`),
    refused(/without tls_server_config .* METRICS_PROMETHEUS_ALLOW_HTTP=yes/),
  );
  await start(`basic_auth_users:\n  prom: ${HASH}\n`, true);
  await start(`${tls}basic_auth_users:\n  prom: ${HASH}\n`);
  await start(`${tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: /etc/c.pem\n`);
  await start(tls, false, '127.0.0.1');
  await assert.rejects(
    start('tls_server_config:\n  cert_file: /etc/k.pem\n  key_file: /etc/k.pem\n'),
    refused(/cert_file holds no PEM certificate/),
  );
  await assert.rejects(
    start('tls_server_config:\n  cert_file: /etc/none.pem\n  key_file: /etc/k.pem\n'),
    refused(/cert_file \/etc\/none\.pem cannot be read/),
  );
});
