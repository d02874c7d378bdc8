import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MANAGED_KEYS_FILE } from '../../../src/concerns/ecs-config/state.ts';
import { renderSteps } from '../../../src/core/step.ts';
import { contextFor, converge, planFor } from '../../support/ecs-config.ts';
import { FakeHost } from '../../support/fake-host.ts';

const ECS_CONFIG = '/etc/ecs/ecs.config';
const AUTH =
  'ECS_ENGINE_AUTH_TYPE=dockercfg\nECS_ENGINE_AUTH_DATA={"https://registry.example.test": ' +
  '{"auth": "dXNlcjpodW50ZXIy", "email": "ops@example.test"}}\n';

async function convergedHost(agentEnv: string, files: Record<string, string> = {}, gpus: number | null = 0) {
  const host = new FakeHost(files);
  const context = await contextFor(host, agentEnv, gpus);
  await converge(context);
  assert.deepEqual(await planFor(context), [], 'a second plan is empty');
  return host;
}

test('a fresh host gets ECS_CLUSTER and the pass-through keys, sorted, JSON compact, mode 0644', async () => {
  const host = await convergedHost(
    'ECS_CLUSTER=prod\nECS_RESERVED_PORTS=[22, 80, ' +
      '5000]\nECS_ENABLE_TASK_IAM_ROLE=true\nECS_INSTANCE_ATTRIBUTES={"stack": "prod", "team": "web ops"}\n',
  );
  assert.equal(
    host.text(ECS_CONFIG),
    'ECS_CLUSTER=prod\nECS_ENABLE_TASK_IAM_ROLE=true\n' +
      'ECS_INSTANCE_ATTRIBUTES={"stack":"prod","team":"web ops"}\nECS_RESERVED_PORTS=[22,80,5000]\n',
  );
  assert.equal(host.files.get(ECS_CONFIG)?.mode, 0o644);
  assert.deepEqual(JSON.parse(host.text(MANAGED_KEYS_FILE) as string), {
    managedKeys: ['ECS_CLUSTER', 'ECS_ENABLE_TASK_IAM_ROLE', 'ECS_INSTANCE_ATTRIBUTES', 'ECS_RESERVED_PORTS'],
  });
});

test(
  'hand-written lines stay in place; managed keys take their first line, in whatever form, and ' + 'lose duplicates',
  async () => {
    const existing = [
      '# written by hand',
      'ECS_CLUSTER=old',
      'ECS_LOGLEVEL=debug',
      'ECS_CUSTOM_HAND=1',
      'export ECS_ENABLE_TASK_IAM_ROLE="false"',
      'ECS_CUSTOM_HAND=2',
      '  ECS_CUSTOM_SPACED = kept as written',
      '',
      'ECS_CLUSTER="older"',
    ].join('\n');
    const host = await convergedHost('ECS_CLUSTER=prod\nECS_ENABLE_TASK_IAM_ROLE=true\n', { [ECS_CONFIG]: existing });
    assert.equal(
      host.text(ECS_CONFIG),
      [
        '# written by hand',
        'ECS_CLUSTER=prod',
        'ECS_LOGLEVEL=debug',
        'ECS_ENABLE_TASK_IAM_ROLE=true',
        'ECS_CUSTOM_HAND=2',
        '  ECS_CUSTOM_SPACED = kept as written',
        '',
        '',
      ].join('\n'),
    );
  },
);

test('registry credentials make the file 0600 and never show in the plan', async () => {
  const host = new FakeHost();
  const context = await contextFor(host, `ECS_CLUSTER=prod\n${AUTH}`);
  const shown = JSON.stringify(await planFor(context)); // what plan --json prints
  assert.match(shown, /ECS_ENGINE_AUTH_DATA=<redacted>/);
  assert.doesNotMatch(shown, /dXNlcjpodW50ZXIy/);
  await converge(context);
  assert.equal(host.files.get(ECS_CONFIG)?.mode, 0o600);
  assert.match(
    host.text(ECS_CONFIG) as string,
    /^ECS_ENGINE_AUTH_DATA=\{"https:\/\/registry\.example\.test":\{"auth":"dXNlcjpodW50ZXIy",/m,
  );
  assert.deepEqual(await planFor(context), []);
});

test('hand-written credentials in a world-readable file: the mode alone is fixed', async () => {
  const existing = 'ECS_CLUSTER=prod\nECS_ENGINE_AUTH_DATA={"r":{"auth":"x"}}\n';
  const host = new FakeHost();
  host.putFile(ECS_CONFIG, existing, 0o644);
  const context = await contextFor(host, 'ECS_CLUSTER=prod\n');
  const [write] = await planFor(context);
  assert.equal(write?.summary, `update ${ECS_CONFIG} (mode 0600, was 0644)`);
  assert.deepEqual(renderSteps(write?.steps ?? []), [`write ${ECS_CONFIG} (mode 0600)`]);
  await converge(context);
  assert.equal(host.text(ECS_CONFIG), existing);
  assert.equal(host.files.get(ECS_CONFIG)?.mode, 0o600);
});

test('a mode the operator narrowed is kept', async () => {
  const host = new FakeHost();
  host.putFile(ECS_CONFIG, 'ECS_CLUSTER=old\n', 0o640);
  await converge(await contextFor(host, 'ECS_CLUSTER=prod\n'));
  assert.equal(host.files.get(ECS_CONFIG)?.mode, 0o640);
});

test('a key dropped from config is removed from the file; keys only the operator wrote are not', async () => {
  const host = await convergedHost('ECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n', {
    [ECS_CONFIG]: 'ECS_IMAGE_PULL_BEHAVIOR=once\n',
  });
  const context = await contextFor(host, 'ECS_CLUSTER=prod\n');
  const actions = await planFor(context);
  assert.deepEqual(
    actions.map((action) => action.summary),
    [`update ${ECS_CONFIG}`, `record in ${MANAGED_KEYS_FILE} the keys the agent manages: ECS_CLUSTER`],
  );
  assert.deepEqual(renderSteps(actions[0]?.steps ?? []), [`write ${ECS_CONFIG} (mode 0644)`, '  - ECS_LOGLEVEL=warn']);
  await converge(context);
  assert.equal(host.text(ECS_CONFIG), 'ECS_IMAGE_PULL_BEHAVIOR=once\nECS_CLUSTER=prod\n');
  assert.deepEqual(await planFor(context), []);
});

test('GPU: set on a host with an NVIDIA GPU, removed again with GPU_SUPPORT=no', async () => {
  const host = await convergedHost('ECS_CLUSTER=prod\n', {}, 2);
  assert.equal(host.text(ECS_CONFIG), 'ECS_CLUSTER=prod\nECS_ENABLE_GPU_SUPPORT=true\n');
  const noGpu = await contextFor(host, 'ECS_CLUSTER=prod\nGPU_SUPPORT=no\n', 2);
  await converge(noGpu);
  assert.equal(host.text(ECS_CONFIG), 'ECS_CLUSTER=prod\n');
  assert.deepEqual(await planFor(noGpu), []);
});

test('GPU: a value given in config wins over detection; no GPU or an image root adds nothing', async () => {
  const explicit = await convergedHost('ECS_CLUSTER=prod\nECS_ENABLE_GPU_SUPPORT=false\n', {}, 1);
  assert.equal(explicit.text(ECS_CONFIG), 'ECS_CLUSTER=prod\nECS_ENABLE_GPU_SUPPORT=false\n');
  for (const gpus of [0, null]) {
    assert.equal((await convergedHost('ECS_CLUSTER=prod\n', {}, gpus)).text(ECS_CONFIG), 'ECS_CLUSTER=prod\n');
  }
});

test('a damaged state record stops the concern with the file named and changes nothing', async () => {
  const host = new FakeHost({ [MANAGED_KEYS_FILE]: '{"managedKeys":"ECS_CLUSTER"}' });
  await assert.rejects(
    converge(await contextFor(host, 'ECS_CLUSTER=prod\n')),
    new RegExp(`${MANAGED_KEYS_FILE} is not a list of managed keys`),
  );
  assert.deepEqual(host.writes, []);
});
