import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';

import { isSecretKey, redactedLine, redactSecrets, shownValue } from '../../../src/core/config/secrets.ts';
import { type ConfigSources, loadConfig } from '../../../src/core/config/load.ts';
import { createLogger } from '../../../src/core/logger.ts';

const SECRET = 'S3CRET';
const FILE = '/etc/ecs-host-agent/agent.env';

test('names that say secret are secret, whatever their case or the words around them', () => {
  const secret = [
    'ECS_ENGINE_AUTH_DATA',
    'ECS_API_KEY',
    'ECS_APIKEY',
    'ECS_DB_PASSWORD',
    'ECS_DBPASSWORD',
    'ecs_db_passwd',
    'ECS_SESSION_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'ECS_REGISTRY_CREDENTIALS',
    'ECS_CREDS',
    'ECS_PRIVATE_CERT',
    'ECS_SMTP_PASS',
    'ECS_DB_PWD',
    'ECS_SIGNING_KEYS',
  ];
  const plain = [
    'ECS_CLUSTER',
    'ECS_KEYBOARD_LAYOUT',
    'ECS_MONKEY',
    'CONTROL_TOKEN_FILE',
    'ECSINIT_SIGNING_KEY',
    'ECS_ENGINE_AUTH_TYPE',
    'ECS_PASSENGER',
  ];
  for (const name of secret) assert.equal(isSecretKey(name), true, name);
  for (const name of plain) assert.equal(isSecretKey(name), false, name);
});

test('a line that assigns a secret is redacted after its first "=", in every form', () => {
  const forms = [
    `export ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}"}}`,
    `ECS_ENGINE_AUTH_DATA = {"r":{"password":"${SECRET}"}}`,
    `  ECS_ENGINE_AUTH_DATA="{\\"r\\":\\"${SECRET}\\"}"`,
    `ECS_ENGINE_AUTH_DATA={"r":{"auth":"${SECRET}"}}\r`,
    `ECS_DB_PASSWORD='${SECRET}'`,
    `ECS_HARMLESS=1\rECS_API_KEY=${SECRET}`,
    `ECS_INSTANCE_ATTRIBUTES={"password":"${SECRET}"}`,
  ];
  for (const line of forms) {
    const shown = redactedLine(line);
    assert.doesNotMatch(shown, new RegExp(SECRET), line);
    assert.match(shown, /=<redacted>$/, line);
  }
});

test('pieces of a value split over lines are redacted when they name a secret anywhere', () => {
  assert.equal(
    redactedLine(`  "https://index.docker.io/v1/": {"username": "u", "password": "${SECRET}"}`),
    '<redacted>',
  );
  assert.doesNotMatch(redactedLine(`{"auth":"${SECRET}=="}`), new RegExp(SECRET));
  assert.equal(redactedLine(`  "token": "${SECRET}"`), '<redacted>');
  assert.equal(redactedLine('ECS_CLUSTER=prod'), 'ECS_CLUSTER=prod');
  assert.equal(
    redactedLine('ECS_CLUSTER=auth-service'),
    'ECS_CLUSTER=auth-service',
    'a plain key is shown, whatever its value says',
  );
});

test('values are shown quoted on one line, or redacted by name or content', () => {
  assert.equal(shownValue('ECS_LOGLEVEL', 'a\nb\u2028c'), '"a\\nb\\u2028c"');
  assert.equal(shownValue('ECS_API_KEY', SECRET), '<redacted>');
  assert.equal(shownValue('ECS_INSTANCE_ATTRIBUTES', `{"secret":"${SECRET}"}`), '<redacted>');
});

test('the last line of defence: a value assigned to a secret name inside any text is replaced', () => {
  const text =
    `failed: ECS_DB_PASSWORD=${SECRET} and {"password": "${SECRET} x"} and ` +
    `ECS_API_KEY = '${SECRET}'; ECS_CLUSTER=prod`;
  const redacted = redactSecrets(text);
  assert.doesNotMatch(redacted, new RegExp(SECRET));
  assert.match(redacted, /ECS_CLUSTER=prod$/);
  assert.equal(
    redactSecrets('the token: expired; ECS_ENGINE_AUTH_DATA=<redacted>'),
    'the token: expired; ECS_ENGINE_AUTH_DATA=<redacted>',
  );
  assert.equal(
    redactSecrets('"x" is not KEY=value (drop "export")'),
    '"x" is not KEY=value (drop "export")',
    'the placeholder of a format',
  );
});

test('log records: secrets redacted in messages and by field name, control characters escaped, one line each', () => {
  for (const journald of [false, true]) {
    let out = '';
    const stream = new Writable({
      write: (chunk, _encoding, done) => {
        out += String(chunk);
        done();
      },
    });
    const logger = createLogger({ level: 'debug', journald, stream });
    logger.error(`bad line "ECS_DB_PASSWORD=${SECRET}"\nsecond\u2028line\u0085\x1b[31m`, {
      ECS_API_KEY: SECRET,
      nested: { password: SECRET },
      argv: ['a\nb'],
    });
    const records = out.split('\n').filter(Boolean);
    assert.equal(records.length, 1, out);
    assert.doesNotMatch(out, new RegExp(SECRET));
    assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    assert.match(out, journald ? /\\\\u2028/ : /\\u2028/);
  }
});

function load(fileText: string | null, env: Record<string, string> = {}): ReturnType<typeof loadConfig> {
  const sources: ConfigSources = { file: FILE, fileText, env, flags: {} };
  return loadConfig(sources);
}

test('agent.env errors never quote a secret, whatever the form of the line', () => {
  const lines = [
    `export ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}"}}`,
    `ECS_ENGINE_AUTH_DATA = {"r":{"password":"${SECRET}"}}`,
    `ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}"}}\r`,
    `ECS_ENGINE_AUTH_DATA="{\\"r\\":{\\"password\\":\\"${SECRET}\\"}}"`,
    `ECS_DB_PASSWORD="${SECRET}"`,
    `ECS_API_KEY=${SECRET} `,
    `  "password": "${SECRET}"`,
    `ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}\u2028"}}`,
    `ECS_API_KEY\u00a0=${SECRET}`,
  ];
  for (const line of lines) {
    assert.throws(
      () => load(`ECS_CLUSTER=prod\n${line}\n`),
      (error: Error & { exitCode: number }) => {
        assert.equal(error.exitCode, 78, error.message);
        assert.match(error.message, new RegExp(`^${FILE}:2: `));
        assert.doesNotMatch(error.message, new RegExp(SECRET), error.message);
        assert.doesNotMatch(error.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        return true;
      },
    );
  }
  assert.throws(
    () => load(null, { ECS_DB_PASSWORD: `${SECRET}\u0085` }),
    (error: Error) => {
      assert.match(error.message, /^environment: ECS_DB_PASSWORD=<redacted> ends with U\+0085 \(NEXT LINE\)/);
      return true;
    },
  );
});
