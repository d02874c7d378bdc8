import assert from 'node:assert/strict';
import { test } from 'node:test';

import dotenv from 'dotenv';

import { parseStrictEnv } from '../../../src/core/config/env-file.ts';
import { type ConfigSources, loadConfig } from '../../../src/core/config/load.ts';

const FILE = '/etc/ecs-host-agent/agent.env';

function load(fileText: string | null, env: Record<string, string> = {}, flags: ConfigSources['flags'] = {}) {
  return loadConfig({ file: FILE, fileText, env, flags });
}

function assertConfigError(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: Error & { exitCode: number }) => {
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.exitCode, 78);
    assert.match(error.message, message);
    return true;
  });
}

test('defaults apply when there is no config file', () => {
  const config = load(null);
  assert.equal(config.ECS_CLUSTER, 'default');
  assert.equal(config.METRICS_INTERVAL, 60_000);
  assert.equal(config.STORAGE_SIZE, 100 * 2 ** 30);
  assert.equal(config.USERS_SOURCE, null);
  assert.deepEqual(config.UPDATE_WINDOW.days, [0]);
  assert.equal(config.origins.ECS_CLUSTER, 'default');
});

test('file < environment < flags, each origin recorded', () => {
  const text = 'ECS_CLUSTER=from-file\nAWS_REGION=eu-west-1\nMETRICS_INTERVAL=30s\n';
  const config = load(
    text,
    { AWS_REGION: 'us-east-2', METRICS_INTERVAL: '2m', UNRELATED: 'x' },
    {
      METRICS_INTERVAL: { value: '5m', flag: '--metrics-interval' },
    },
  );
  assert.equal(config.ECS_CLUSTER, 'from-file');
  assert.equal(config.origins.ECS_CLUSTER, `${FILE}:1`);
  assert.equal(config.AWS_REGION, 'us-east-2');
  assert.equal(config.origins.AWS_REGION, 'environment');
  assert.equal(config.METRICS_INTERVAL, 300_000);
  assert.equal(config.origins.METRICS_INTERVAL, '--metrics-interval');
});

test('typed values: users source, window, booleans, sizes', () => {
  const config = load(
    'USERS_SOURCE=ssm:/ecs/users\nUPDATE_WINDOW=Fri-Mon 23:30-01:00\nSTORAGE_FORCE_FORMAT=yes\nSTORAGE_SIZE=512M\n' +
      'STORAGE_MODE=btrfs-device\nSTORAGE_DEVICE=vol-0123456789abcdef0\n',
  );
  assert.deepEqual(config.USERS_SOURCE, { kind: 'ssm', path: '/ecs/users' });
  assert.deepEqual(config.UPDATE_WINDOW.days, [0, 1, 5, 6]);
  assert.equal(config.UPDATE_WINDOW.startMinute, 23 * 60 + 30);
  assert.equal(config.STORAGE_FORCE_FORMAT, true);
  assert.equal(config.STORAGE_SIZE, 512 * 2 ** 20);
});

test('ECS_* keys the agent does not interpret pass through to ecs.config', () => {
  const config = load('ECS_CLUSTER=prod\nECS_ENABLE_TASK_IAM_ROLE=true\n', { ECS_LOGLEVEL: 'debug' });
  assert.deepEqual(config.ecsPassThrough, { ECS_ENABLE_TASK_IAM_ROLE: 'true', ECS_LOGLEVEL: 'debug' });
});

const BAD_FILES: [string, string, RegExp][] = [
  ['export', 'export ECS_CLUSTER=prod\n', /agent\.env:1: "export ECS_CLUSTER=prod" is not KEY=value \(drop "export"\)/],
  ['spaces around =', 'ECS_CLUSTER = prod\n', /agent\.env:1: .* is not KEY=value \(no spaces around "="\)/],
  ['quoted value', 'ECS_CLUSTER="prod"\n', /agent\.env:1: value of ECS_CLUSTER starts with a quote/],
  ['single-quoted value', "AWS_REGION='eu-west-1'\n", /agent\.env:1: value of AWS_REGION starts with a quote/],
  ['hash in value', 'ECS_CLUSTER=prod#1\n', /agent\.env:1: value of ECS_CLUSTER contains "#"/],
  ['backslash', 'CONTROL_URL=https://x\\y\n', /agent\.env:1: value of CONTROL_URL contains a backslash/],
  ['trailing space', 'ECS_CLUSTER=prod \n', /agent\.env:1: value of ECS_CLUSTER ends with a space \(systemd or Go's/],
  ['duplicate', 'ECS_CLUSTER=a\n\nECS_CLUSTER=b\n', /agent\.env:3: ECS_CLUSTER is already set on line 1/],
  [
    'unknown key',
    'STORAGE_MODEL=btrfs-file\n',
    /agent\.env:1: unknown key STORAGE_MODEL; allowed: ECS_CLUSTER, .*STORAGE_MODE/,
  ],
  [
    'bad choice',
    'STORAGE_MODE=zfs\n',
    /agent\.env:1: STORAGE_MODE="zfs" is not one of the choices; allowed: none, btrfs-file, btrfs-device/,
  ],
  [
    'bad duration',
    'METRICS_INTERVAL=5\n',
    /agent\.env:1: METRICS_INTERVAL="5" is not a duration in range; allowed: a number with a unit ms, s, m or h, /,
  ],
  ['duration out of range', 'METRICS_INTERVAL=1s\n', /METRICS_INTERVAL="1s" is not a duration in range/],
  ['bad size', 'STORAGE_SIZE=100GB\n', /STORAGE_SIZE="100GB" is not a size; allowed: .* e\.g\. 100G/],
  [
    'bad cluster',
    'ECS_CLUSTER=my cluster\n',
    /ECS_CLUSTER="my cluster" has the wrong form; allowed: an ECS cluster name/,
  ],
  ['bad region', 'AWS_REGION=europe\n', /AWS_REGION="europe" has the wrong form; allowed: an AWS region name/],
  ['bad url', 'CONTROL_URL=ftp://x\n', /CONTROL_URL="ftp:\/\/x" is not an http\(s\) URL/],
  [
    'bad users source',
    'USERS_SOURCE=ldap:/x\n',
    /USERS_SOURCE="ldap:\/x" is not a users source; allowed: ssm:\/parameter\/prefix/,
  ],
  ['bad window', 'UPDATE_WINDOW=Sunday 3-5\n', /UPDATE_WINDOW="Sunday 3-5" is not a maintenance window/],
  ['bad day', 'UPDATE_WINDOW=Sat,Sonntag 02:00-04:00\n', /has an unknown day "Sonntag"/],
  ['bad time zone', 'UPDATE_TIMEZONE=Mars/Olympus\n', /UPDATE_TIMEZONE="Mars\/Olympus" is not a time zone/],
  ['bad boolean', 'STORAGE_FORCE_FORMAT=maybe\n', /STORAGE_FORCE_FORMAT="maybe" is not a boolean; allowed: yes or no/],
  ['relative path', 'STORAGE_FILE=docker.btrfs\n', /STORAGE_FILE="docker\.btrfs" is not an absolute path/],
  [
    'device mode without device',
    'STORAGE_MODE=btrfs-device\n',
    /agent\.env:1: STORAGE_MODE=btrfs-device needs STORAGE_DEVICE/,
  ],
  [
    'bad reboot count',
    'MAX_CONCURRENT_REBOOTS=0\n',
    /MAX_CONCURRENT_REBOOTS="0" is not a whole number in range; allowed: a whole number from 1 to 1000/,
  ],
];

for (const [name, text, message] of BAD_FILES) {
  test(`config file rejected with exit 78: ${name}`, () => assertConfigError(() => load(text), message));
}

test('time zones: exactly what Intl.DateTimeFormat accepts, canonical names and aliases alike', () => {
  for (const zone of [
    'UTC',
    'Europe/Berlin',
    'America/Argentina/Buenos_Aires',
    'US/Eastern',
    'Etc/GMT+5',
    'europe/berlin',
  ]) {
    assert.equal(load(`UPDATE_TIMEZONE=${zone}\n`).UPDATE_TIMEZONE, zone);
  }
  // The quick path (the list of canonical zones) accepts nothing the slow one would refuse.
  for (const zone of Intl.supportedValuesOf('timeZone'))
    assert.doesNotThrow(() => new Intl.DateTimeFormat('en', { timeZone: zone }), zone);
  for (const zone of ['Mars/Olympus', 'Europe', 'UTC+25', 'Europe/']) {
    assertConfigError(() => load(`UPDATE_TIMEZONE=${zone}\n`), /is not a time zone/);
  }
});

test('bad values from the environment and flags name their origin', () => {
  assertConfigError(() => load(null, { STORAGE_MODE: 'lvm' }), /^environment: STORAGE_MODE="lvm"/);
  assertConfigError(
    () => load(null, {}, { LOG_LEVEL: { value: 'loud', flag: '--log-level' } }),
    /^--log-level: LOG_LEVEL="loud" is not one of the choices; allowed: error, warn, info, debug/,
  );
  const newline = /^environment: ECS_CLUSTER="a\\nb" contains LF \(a newline\) at character 2: values are one line/;
  assertConfigError(() => load(null, { ECS_CLUSTER: 'a\nb' }), newline);
});

test('secrets are never printed in errors', () => {
  assert.throws(
    () => load('ECS_ENGINE_AUTH_DATA=\'{"password":"hunter2"}\'\n'),
    (error: Error) => {
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
  assert.throws(
    () => load(null, { ECS_ENGINE_AUTH_DATA: ' {"password":"hunter2"}' }),
    (error: Error) => {
      assert.match(error.message, /ECS_ENGINE_AUTH_DATA=<redacted>/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
});

test('every line the strict parser accepts, dotenv reads identically', () => {
  const text = [
    '# a comment',
    '',
    'ECS_CLUSTER=prod-1',
    'ECS_INSTANCE_ATTRIBUTES={"team":"a b","x":"y=z"}',
    'CONTROL_URL=https://control.example.test/api?x=1&y=2',
    'ECS_EMPTY=',
    'UPDATE_WINDOW=Mon-Fri 02:00-04:00',
    'ECS_QUOTE_INSIDE=a"b\'c',
  ].join('\n');
  const strict = Object.fromEntries(parseStrictEnv(text, 'x').map((entry) => [entry.key, entry.value]));
  assert.deepEqual(dotenv.parse(text), strict);
});
