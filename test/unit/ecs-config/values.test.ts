import assert from 'node:assert/strict';
import { test } from 'node:test';

import { shownValue } from '../../../src/core/config/secrets.ts';
import { AGENT_ENV, configFrom } from '../../support/ecs-config.ts';

/** Values the agent accepts, and what it writes for them (JSON compact, the rest as given). */
const ACCEPTED: readonly [string, string, string?][] = [
  ['ECS_ENABLE_TASK_IAM_ROLE', 'true'],
  ['ECS_ENABLE_SPOT_INSTANCE_DRAINING', 'false'],
  ['ECS_INSTANCE_ATTRIBUTES', '{ "stack" : "prod" }', '{"stack":"prod"}'],
  ['ECS_INSTANCE_ATTRIBUTES', '{}', '{}'],
  ['ECS_CONTAINER_INSTANCE_TAGS', '{"team": "web", "cost-center": ""}', '{"team":"web","cost-center":""}'],
  ['ECS_AVAILABLE_LOGGING_DRIVERS', '[ "json-file" , "awslogs" ]', '["json-file","awslogs"]'],
  ['ECS_RESERVED_PORTS', '[22, 2375, 65535]', '[22,2375,65535]'],
  ['ECS_RESERVED_PORTS_UDP', '[]', '[]'],
  ['ECS_AWSVPC_ADDITIONAL_LOCAL_ROUTES', '["10.0.15.0/24", "fd00::/8"]', '["10.0.15.0/24","fd00::/8"]'],
  ['ECS_ENGINE_AUTH_TYPE', 'docker'],
  [
    'ECS_ENGINE_AUTH_DATA',
    '{"https://index.docker.io/v1/": {"username": "u", "password": "p=="}}',
    '{"https://index.docker.io/v1/":{"username":"u","password":"p=="}}',
  ],
  ['ECS_LOGLEVEL', 'crit'],
  ['ECS_LOGLEVEL_ON_INSTANCE', 'none'],
  ['ECS_LOG_DRIVER', 'json-file'],
  ['ECS_IMAGE_PULL_BEHAVIOR', 'prefer-cached'],
  ['ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION', '1h30m'],
  ['ECS_CONTAINER_STOP_TIMEOUT', '.5s'],
  ['ECS_IMAGE_PULL_TIMEOUT', '1.5h'],
  ['ECS_MANIFEST_PULL_TIMEOUT', '0'],
  ['ECS_CGROUP_CPU_PERIOD', '8000µs'],
  ['ECS_IMAGE_CLEANUP_INTERVAL', '10m'],
  ['ECS_POLLING_METRICS_WAIT_DURATION', '20s'],
  ['ECS_RESERVED_MEMORY', '256'],
  ['ECS_NUM_IMAGES_DELETE_PER_CYCLE', '5'],
  ['ECS_TASK_PIDS_LIMIT', '4194304'],
  ['ECS_TASK_METADATA_RPS_LIMIT', '100,150'],
  ['ECS_DYNAMIC_HOST_PORT_RANGE', '32768-60999'],
  ['ECS_RESERVED_PORTS', '', ''],
  ['ECS_UNKNOWN_TO_THIS_AGENT', 'anything; even=this'],
];

for (const [key, value, written = value] of ACCEPTED) {
  test(`accepted: ${key}=${value || '(empty)'}`, () => {
    assert.equal(configFrom(`${key}=${value}\n`).ecsPassThrough[key], written);
  });
}

/** Every rejected value: [key, value as in agent.env, what the error says]. Each one is a config error on line 2. */
const REJECTED: readonly [string, string, RegExp][] = [
  ['ECS_EXTERNAL', 'true', /is for ECS Anywhere only.*; allowed: leave ECS_EXTERNAL unset/],
  ['ECS_EXTERNAL', '', /is for ECS Anywhere only/],
  ['ECS_ENABLE_TASK_IAM_ROLE', 'yes', /is not true or false; allowed: true or false, in lower case/],
  ['ECS_ENABLE_GPU_SUPPORT', 'True', /is not true or false/],
  ['ECS_DISABLE_PRIVILEGED', '1', /is not true or false/],
  ['ECS_INSTANCE_ATTRIBUTES', '{stack: prod}', /is not valid JSON; allowed: a JSON object of string values/],
  ['ECS_INSTANCE_ATTRIBUTES', '["prod"]', /is JSON of the wrong shape; allowed: a JSON object of string values/],
  ['ECS_INSTANCE_ATTRIBUTES', '{"size":3}', /is JSON of the wrong shape/],
  [
    'ECS_CONTAINER_INSTANCE_TAGS',
    `{"${'k'.repeat(129)}":"v"}`,
    /wrong shape; allowed: .*keys up to 128 and values up to 256/,
  ],
  ['ECS_CONTAINER_INSTANCE_TAGS', `{"k":"${'v'.repeat(257)}"}`, /wrong shape/],
  ['ECS_LOG_OPTS', '{"max-size":10}', /wrong shape; allowed: a JSON object of string values/],
  ['ECS_AGENT_LABELS', 'null', /wrong shape/],
  ['ECS_AVAILABLE_LOGGING_DRIVERS', '{"json-file":true}', /wrong shape; allowed: a JSON array of strings/],
  ['ECS_AVAILABLE_LOGGING_DRIVERS', '[json-file]', /is not valid JSON/],
  ['ECS_RESERVED_PORTS', '[22, 70000]', /wrong shape; allowed: a JSON array of port numbers from 1 to 65535/],
  ['ECS_RESERVED_PORTS', '[0]', /wrong shape/],
  ['ECS_RESERVED_PORTS_UDP', '[53.5]', /wrong shape/],
  ['ECS_RESERVED_PORTS_UDP', '["53"]', /wrong shape/],
  ['ECS_AWSVPC_ADDITIONAL_LOCAL_ROUTES', '["10.0.15.0"]', /wrong shape; allowed: a JSON array of CIDR blocks/],
  ['ECS_AWSVPC_ADDITIONAL_LOCAL_ROUTES', '["10.0.15.0/33"]', /wrong shape/],
  [
    'ECS_ENGINE_AUTH_DATA',
    '{}',
    /wrong shape; allowed: a JSON object mapping each registry to an object of credentials/,
  ],
  ['ECS_ENGINE_AUTH_DATA', '{"https://r.example.test":"token"}', /wrong shape/],
  ['ECS_ENGINE_AUTH_TYPE', 'basic', /is not one of the choices; allowed: docker, dockercfg/],
  ['ECS_LOGLEVEL', 'verbose', /allowed: crit, error, warn, info, debug/],
  ['ECS_LOGLEVEL_ON_INSTANCE', 'trace', /allowed: none, crit, error, warn, info, debug/],
  ['ECS_LOG_DRIVER', 'fluentbit', /allowed: awslogs, fluentd, gelf, json-file, journald, logentries, syslog, splunk/],
  ['ECS_LOG_ROLLOVER_TYPE', 'daily', /allowed: size, hourly/],
  ['ECS_LOG_OUTPUT_FORMAT', 'xml', /allowed: logfmt, json/],
  ['ECS_IMAGE_PULL_BEHAVIOR', 'never', /allowed: default, always, once, prefer-cached/],
  ['ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM', 'autoscaling', /allowed: ec2_instance, none/],
  ['ECS_CONTAINER_STOP_TIMEOUT', '30', /is not a duration; allowed: a duration such as 30s, 10m or 1h30m/],
  ['ECS_CONTAINER_STOP_TIMEOUT', '-5s', /is not a duration/],
  ['ECS_IMAGE_PULL_TIMEOUT', '1d', /is not a duration/],
  ['ECS_IMAGE_PULL_TIMEOUT', '5 m', /is not a duration/],
  ['ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION', '500ms', /is a duration out of range; allowed: .*at least 1s/],
  ['ECS_IMAGE_CLEANUP_INTERVAL', '5m', /out of range; allowed: .*at least 10m/],
  ['ECS_CONTAINER_CREATE_TIMEOUT', '30s', /out of range; allowed: .*at least 1m/],
  ['ECS_POLLING_METRICS_WAIT_DURATION', '30s', /out of range; allowed: .*at least 5s and at most 20s/],
  ['ECS_CGROUP_CPU_PERIOD', '1ms', /out of range; allowed: .*at least 8ms and at most 100ms/],
  ['ECS_RESERVED_MEMORY', '70000', /is not a whole number in range; allowed: a whole number from 0 to 65535/],
  ['ECS_RESERVED_MEMORY', '32MB', /is not a whole number in range/],
  ['ECS_NUM_IMAGES_DELETE_PER_CYCLE', '0', /allowed: a whole number, at least 1/],
  ['ECS_TASK_PIDS_LIMIT', '4194305', /allowed: a whole number from 1 to 4194304/],
  ['ECS_LOG_MAX_ROLL_COUNT', 'many', /allowed: a whole number, at least 1/],
  ['ECS_TASK_METADATA_RPS_LIMIT', '40', /is not two whole numbers joined by ","; allowed: .*e\.g\. 40,60/],
  ['ECS_DYNAMIC_HOST_PORT_RANGE', '60999-32768', /is not a port range; allowed: .*the first not above the second/],
  ['ECS_DYNAMIC_HOST_PORT_RANGE', '0-100', /is not a port range/],
  ['ECS_DYNAMIC_HOST_PORT_RANGE', '100-70000', /is not a port range/],
  ['GPU_SUPPORT', 'yes', /GPU_SUPPORT="yes" is not one of the choices; allowed: auto, no/],
];

for (const [key, value, problem] of REJECTED) {
  test(`rejected with exit 78: ${key}=${value.slice(0, 40) || '(empty)'}`, () => {
    assert.throws(
      () => configFrom(`ECS_CLUSTER=prod\n${key}=${value}\n`),
      (error: Error & { exitCode: number }) => {
        assert.equal(error.name, 'ConfigError');
        assert.equal(error.exitCode, 78);
        assert.ok(error.message.startsWith(`${AGENT_ENV}:2: ${key}=${shownValue(key, value)} `), error.message);
        assert.match(error.message, problem);
        return true;
      },
    );
  });
}

test('what cannot be written on one line is rejected wherever it comes from', () => {
  for (const [value, name] of [
    ['a\nb', 'LF \\(a newline\\)'],
    ['a\rb', 'CR \\(carriage return\\)'],
    ['a\0b', 'NUL'],
  ]) {
    const refusal = new RegExp(`environment: ECS_CUSTOM="a\\\\[nr0]b" contains ${name} at character 2`);
    assert.throws(() => configFrom('', { ECS_CUSTOM: value as string }), refusal);
  }
  const leading = /environment: ECS_LOGLEVEL=" info" starts with a space/;
  assert.throws(() => configFrom('', { ECS_LOGLEVEL: ' info' }), leading);
});

/** Lines of agent.env that readers would take differently: rejected by the strict parser, with the fix named. */
const UNREADABLE_LINES: readonly [string, RegExp][] = [
  ['export ECS_LOGLEVEL=info', /agent\.env:1: "export ECS_LOGLEVEL=info" is not KEY=value \(drop "export"\)/],
  ['ECS_LOGLEVEL = info', /agent\.env:1: .* is not KEY=value \(no spaces around "="\)/],
  ['ECS_LOGLEVEL="info"', /agent\.env:1: value of ECS_LOGLEVEL starts with a quote/],
  [
    'ECS_INSTANCE_ATTRIBUTES=\'{"stack":"prod"}\'',
    /agent\.env:1: value of ECS_INSTANCE_ATTRIBUTES starts with a quote/,
  ],
  ['ECS_CUSTOM=a\\b', /agent\.env:1: value of ECS_CUSTOM contains a backslash/],
  ['ECS_CUSTOM=a#b', /agent\.env:1: value of ECS_CUSTOM contains "#"/],
];

for (const [line, message] of UNREADABLE_LINES) {
  test(`rejected with exit 78: the line ${line}`, () => {
    assert.throws(
      () => configFrom(`${line}\n`),
      (error: Error & { exitCode: number }) => {
        assert.equal(error.exitCode, 78);
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test('a bad credentials value is reported without the credentials', () => {
  for (const value of ['{"https://r.example.test":{"password":hunter2}}', '{"https://r.example.test":"hunter2"}']) {
    assert.throws(
      () => configFrom(`ECS_ENGINE_AUTH_DATA=${value}\n`),
      (error: Error) => {
        assert.match(error.message, /^\/etc\/ecs-host-agent\/agent\.env:1: ECS_ENGINE_AUTH_DATA=<redacted> is/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  }
});
