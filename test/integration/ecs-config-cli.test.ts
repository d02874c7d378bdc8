import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import { type CliResult, runCli } from '../support/cli.ts';
import { dpkgWithSystemd } from '../support/ecs-config.ts';
import { fixtureFiles } from '../support/fixtures.ts';
import { CLI } from '../support/paths.ts';
import { scratchDir } from '../support/scratch.ts';

/**
 * The real CLI, as an operator runs it against an image root: whatever the form of a line that
 * holds a secret, in agent.env or by hand in ecs.config, no byte of it reaches stdout or stderr
 * (text, journald JSON, --json); bad bytes and sizes exit 78 naming what is wrong.
 */
const SECRET = 'S3CRET';
const LOOPBACK = 'http://127.0.0.1:9';
const ENV = {
  AWS_EC2_METADATA_SERVICE_ENDPOINT: LOOPBACK,
  AWS_ENDPOINT_URL_ECS: LOOPBACK,
  AWS_ENDPOINT_URL_SSM: LOOPBACK,
  AWS_ENDPOINT_URL_S3: LOOPBACK,
  AWS_ENDPOINT_URL_ECR: LOOPBACK,
  AWS_ENDPOINT_URL_CLOUDWATCH: LOOPBACK,
  ECSINIT_BASE_URL: LOOPBACK,
  CONTROL_URL: '',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: 'us-east-1',
};

/** A Debian 12 image root with systemd 252 in its dpkg database and a shell whose ELF header names the arch. */
function imageRoot(t: TestContext, ecsConfig: string | null): string {
  const root = scratchDir(t);
  for (const [path, text] of Object.entries(fixtureFiles('os/debian-12'))) {
    mkdirSync(`${root}${path.slice(0, path.lastIndexOf('/'))}`, { recursive: true });
    writeFileSync(`${root}${path}`, text);
  }
  mkdirSync(`${root}/var/lib/dpkg`, { recursive: true });
  writeFileSync(`${root}/var/lib/dpkg/status`, dpkgWithSystemd('252.22-1~deb12u1'));
  mkdirSync(`${root}/bin`);
  copyFileSync('/bin/sh', `${root}/bin/sh`);
  if (ecsConfig !== null) {
    mkdirSync(`${root}/etc/ecs`, { recursive: true });
    writeFileSync(`${root}/etc/ecs/ecs.config`, ecsConfig);
  }
  return root;
}

async function planWith(
  t: TestContext,
  agentEnv: string | Uint8Array,
  ecsConfig: string | null,
  extra: readonly string[] = [],
  env = {},
): Promise<CliResult> {
  const root = imageRoot(t, ecsConfig);
  writeFileSync(`${root}/agent.env`, agentEnv);
  return runCli(['plan', '--config', `${root}/agent.env`, '--root', root, ...extra], { ...ENV, ...env });
}

function assertNoSecret(result: CliResult, what: string): void {
  const all = `${result.stdout}\n${result.stderr}`;
  assert.doesNotMatch(all, new RegExp(SECRET), `${what}:\n${all}`);
  assert.doesNotMatch(
    all,
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/,
    `${what}: raw control characters in the output`,
  );
}

const AGENT_ENV_FORMS = [
  `export ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}"}}`,
  `ECS_ENGINE_AUTH_DATA = {"r":{"password":"${SECRET}"}}`,
  `ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}"}}\r`,
  `ECS_ENGINE_AUTH_DATA='{"r":{"password":"${SECRET}"}}'`,
  `ECS_DB_PASSWORD="${SECRET}"`,
  `ECS_API_KEY=${SECRET}\u0085`,
  `  "password": "${SECRET}"`,
  `ECS_SESSION_TOKEN=${SECRET}\u2028x`,
  `ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}"}}\\`,
];

test('a malformed agent.env line holding a secret: exit 78, and no output format shows the secret', async (t) => {
  for (const line of AGENT_ENV_FORMS) {
    for (const [extra, env] of [
      [[], {}],
      [['--json'], {}],
      [[], { JOURNAL_STREAM: '8:12345' }],
    ] as const) {
      const result = await planWith(t, `ECS_CLUSTER=prod\n${line}\n`, null, extra, env);
      assert.equal(result.status, 78, `${JSON.stringify(line)}: ${result.stderr}`);
      assert.match(result.stderr, /agent\.env:2: /);
      if (line.startsWith('export'))
        assert.match(
          result.stderr,
          /"export ECS_ENGINE_AUTH_DATA=<redacted>\\?" is not KEY=value \(drop \\?"export\\?"\)/,
        );
      assertNoSecret(result, JSON.stringify(line));
    }
  }
});

test('secrets in ecs.config, hand-written in any form or managed: redacted by plan, apply --dry-run', async (t) => {
  const ecsConfig = [
    `export ECS_ENGINE_AUTH_DATA={"r":{"password":"${SECRET}"}}`,
    `ECS_DB_PASSWORD = ${SECRET}`,
    `ECS_API_KEY="${SECRET}"\r`,
    `ECS_HAND=1\rECS_SESSION_TOKEN=${SECRET}`,
    `ECS_PRIVATE_THING='${SECRET}`,
    '',
  ].join('\n');
  const agentEnv = `ECS_CLUSTER=prod\nECS_DB_PASSWORD=${SECRET}\nECS_API_KEY=${SECRET}\n`;
  for (const extra of [[], ['--json']]) {
    const result = await planWith(t, agentEnv, ecsConfig, extra);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /ECS_DB_PASSWORD=<redacted>/);
    assertNoSecret(result, `plan ${extra.join(' ')}`);
  }
  const root = imageRoot(t, ecsConfig);
  writeFileSync(`${root}/agent.env`, agentEnv);
  const dryRun = await runCli(['apply', '--dry-run', '--json', '--config', `${root}/agent.env`, '--root', root], ENV);
  assert.equal(dryRun.status, 0, dryRun.stderr);
  assertNoSecret(dryRun, 'apply --dry-run --json');
  assert.equal(readFileSync(`${root}/etc/ecs/ecs.config`, 'utf8'), ecsConfig, 'a dry run writes nothing');
});

test('invalid UTF-8 in agent.env: exit 78 naming the line, column and byte', async (t) => {
  const bytes = Uint8Array.from([...Buffer.from('ECS_CLUSTER=prod\nECS_LOGLEVEL=inf'), 0xf6, 0x0a]);
  const result = await planWith(t, bytes, null);
  assert.equal(result.status, 78, result.stderr);
  assert.match(result.stderr, /agent\.env:2: invalid UTF-8 byte 0xF6 at column 17: the file must be UTF-8/);
  assert.equal(result.stdout, '');
});

/** Runs the CLI with an environment value holding raw bytes, which Node cannot pass itself. */
function runWithRawEnv(args: readonly string[], name: string, value: Uint8Array): Promise<CliResult> {
  const program = [
    'import os, sys',
    'env = {k.encode(): v.encode() for k, v in os.environ.items()}',
    'env[sys.argv[1].encode()] = bytes.fromhex(sys.argv[2])',
    'os.execve(sys.argv[3], sys.argv[3:], env)',
  ].join('\n');
  const argv = ['-c', program, name, Buffer.from(value).toString('hex'), process.execPath, CLI, ...args];
  return new Promise((resolve) => {
    execFile(
      'python3',
      argv,
      { env: { PATH: process.env.PATH ?? '', ...ENV }, encoding: 'utf8' },
      (error, stdout, stderr) => {
        resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
      },
    );
  });
}

test('invalid UTF-8 in the environment: exit 78, the same rule as for agent.env', async (t) => {
  const root = imageRoot(t, null);
  writeFileSync(`${root}/agent.env`, 'ECS_CLUSTER=prod\n');
  const result = await runWithRawEnv(
    ['plan', '--config', `${root}/agent.env`, '--root', root],
    'ECS_LOGLEVEL',
    Uint8Array.from([0x69, 0x6e, 0xff, 0x6f]),
  );
  assert.equal(result.status, 78, result.stderr);
  assert.match(
    result.stderr,
    /environment: ECS_LOGLEVEL="in\\ufffdo" contains U\+FFFD \(REPLACEMENT CHARACTER\) at character 3/,
  );
});

test('over the limits: one variable of 131,072 bytes, a file over 1 MiB of environment: exit 78, named', async (t) => {
  const big = `ECS_CUSTOM_BIG=${'b'.repeat(131_072 - 'ECS_CUSTOM_BIG='.length)}`;
  const one = await planWith(t, `ECS_CLUSTER=prod\n${big}\n`, null);
  assert.equal(one.status, 78, one.stderr);
  assert.match(
    one.stderr,
    /agent\.env:2: value of ECS_CUSTOM_BIG is too long: .* 131,072 bytes, over Linux's limit of 131,071 bytes/,
  );
  const many = Array.from({ length: 11 }, (_, index) => `ECS_FILL_${index}=${'f'.repeat(100_000)}`);
  const file = await planWith(t, `${many.join('\n')}\n`, null);
  assert.equal(file.status, 78, file.stderr);
  assert.match(
    file.stderr,
    /agent\.env: the variables of .*agent\.env take 1,100,221 bytes of the environment .* limit of 1,048,576 bytes/,
  );
});

test('an ecs.config no placement can fix: plan exits 78, names hazards and readings, changes nothing', async (t) => {
  const ecsConfig = 'ECS_CLUSTER=old\nX=1\rECS_CLUSTER=evil\rECS_OPEN="x\n';
  const result = await planWith(t, 'ECS_CLUSTER=prod\n', ecsConfig);
  assert.equal(result.status, 78, result.stderr);
  assert.match(result.stdout, /ecs-config: cannot plan: \/etc\/ecs\/ecs\.config: nothing is changed/);
  assert.match(
    result.stdout,
    /\/etc\/ecs\/ecs\.config:2: CR \(carriage return\) inside the line: systemd starts a new line there/,
  );
  assert.match(
    result.stdout,
    /ECS_CLUSTER would not be read as written: systemd 252 reads "evil", ecs-init reads "prod"/,
  );
});
