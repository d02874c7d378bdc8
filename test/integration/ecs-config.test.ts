import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { RealHost } from '../../src/host/real-host.ts';
import { contextFor, converge, planFor } from '../support/ecs-config.ts';
import { parseEcsInitEnvFile, parseSystemdEnvironmentFile } from '../../src/concerns/ecs-config/readers.ts';
import { CLI } from '../support/paths.ts';
import { scratchDir } from '../support/scratch.ts';

const AGENT_ENV = [
  'ECS_CLUSTER=prod',
  'ECS_ENGINE_AUTH_TYPE=dockercfg',
  'ECS_ENGINE_AUTH_DATA={"https://registry.example.test": {"auth": "dXNlcjpwYXNz=="}}',
  'ECS_RESERVED_PORTS=[22, 80]',
  '',
].join('\n');

test(
  '--root: ecs.config is written into the image atomically, 0600 with credentials, hand lines ' +
    'kept, then nothing to do',
  async (t) => {
    const root = scratchDir(t);
    mkdirSync(`${root}/etc/ecs`, { recursive: true });
    writeFileSync(`${root}/etc/ecs/ecs.config`, '# baked by hand\nECS_CLUSTER=old\nECS_IMAGE_PULL_BEHAVIOR=once\n', {
      mode: 0o644,
    });
    const context = await contextFor(new RealHost(root), AGENT_ENV, null);

    await converge(context);

    const text = readFileSync(`${root}/etc/ecs/ecs.config`, 'utf8');
    assert.equal(
      text,
      '# baked by hand\nECS_CLUSTER=prod\nECS_IMAGE_PULL_BEHAVIOR=once\n' +
        'ECS_ENGINE_AUTH_DATA={"https://registry.example.test":{"auth":"dXNlcjpwYXNz=="}}\n' +
        'ECS_ENGINE_AUTH_TYPE=dockercfg\nECS_RESERVED_PORTS=[22,80]\n',
    );
    assert.deepEqual(parseSystemdEnvironmentFile(text), parseEcsInitEnvFile(text));
    assert.equal(statSync(`${root}/etc/ecs/ecs.config`).mode & 0o7777, 0o600);
    assert.deepEqual(readdirSync(`${root}/etc/ecs`), ['ecs.config'], 'no temporary file is left behind');
    assert.deepEqual(
      JSON.parse(readFileSync(`${root}/var/lib/ecs-host-agent/ecs-config-keys.json`, 'utf8')).managedKeys,
      ['ECS_CLUSTER', 'ECS_ENGINE_AUTH_DATA', 'ECS_ENGINE_AUTH_TYPE', 'ECS_RESERVED_PORTS'],
    );
    assert.deepEqual(await planFor(context), [], 'a second run plans nothing');
  },
);

test('--root: a fresh image gets /etc/ecs, and an absolute /etc/ecs symlink resolves inside the image', async (t) => {
  const root = scratchDir(t);
  mkdirSync(`${root}/etc`);
  mkdirSync(`${root}/opt/ecs`, { recursive: true });
  symlinkSync('/opt/ecs', `${root}/etc/ecs`);
  await converge(await contextFor(new RealHost(root), 'ECS_CLUSTER=prod\n', null));
  assert.equal(readFileSync(`${root}/opt/ecs/ecs.config`, 'utf8'), 'ECS_CLUSTER=prod\n');
  assert.equal(statSync(`${root}/opt/ecs/ecs.config`).mode & 0o7777, 0o644);

  const fresh = scratchDir(t);
  await converge(await contextFor(new RealHost(fresh), 'ECS_CLUSTER=prod\n', null));
  assert.equal(readFileSync(`${fresh}/etc/ecs/ecs.config`, 'utf8'), 'ECS_CLUSTER=prod\n');
});

test('the CLI refuses a bad ECS_* value in agent.env with exit 78, naming file, line, key and what is allowed', (t) => {
  const dir = scratchDir(t);
  writeFileSync(`${dir}/agent.env`, 'ECS_CLUSTER=prod\nECS_RESERVED_PORTS=[22, 99999]\n');
  const env = { PATH: process.env.PATH ?? '' };
  const run = spawnSync(process.execPath, [CLI, 'plan', '--config', `${dir}/agent.env`, '--root', dir], {
    encoding: 'utf8',
    env,
  });
  assert.equal(run.status, 78, run.stderr);
  assert.match(run.stderr, /agent\.env:2: ECS_RESERVED_PORTS="\[22, 99999\]" is JSON of the wrong shape; /);
  assert.match(run.stderr, /; allowed: a JSON array of port numbers from 1 to 65535/);
  assert.equal(run.stdout, '');
});
