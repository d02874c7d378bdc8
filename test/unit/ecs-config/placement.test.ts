import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ecsConfigConcern } from '../../../src/concerns/ecs-config/index.ts';
import { readAsEcsInit, readAsSystemd } from '../../../src/concerns/ecs-config/readers.ts';
import { decodeLossless, encodeLossless } from '../../../src/core/config/text.ts';
import { planAll } from '../../../src/core/runner.ts';
import { renderSteps } from '../../../src/core/step.ts';
import { contextFor, converge, dpkgWithSystemd, planFor, warningsFor } from '../../support/ecs-config.ts';
import { FakeHost } from '../../support/fake-host.ts';

const ECS_CONFIG = '/etc/ecs/ecs.config';
const AGENT_ENV = 'ECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n';

function hostWith(existing: string | Uint8Array, systemd = '252.22-1~deb12u1'): FakeHost {
  const host = new FakeHost({ '/var/lib/dpkg/status': dpkgWithSystemd(systemd) });
  host.putFile(ECS_CONFIG, typeof existing === 'string' ? existing : existing, 0o644);
  return host;
}

function written(host: FakeHost): string {
  return decodeLossless(host.files.get(ECS_CONFIG)?.data as Uint8Array);
}

/** Every managed key read as written by systemd of that version and by ecs-init. */
function assertReadAlike(
  text: string,
  version: number,
  managed: Record<string, string> = { ECS_CLUSTER: 'prod', ECS_LOGLEVEL: 'warn' },
): void {
  const systemd = readAsSystemd(text, version).variables;
  const ecsInit = readAsEcsInit(text);
  for (const [key, value] of Object.entries(managed)) {
    assert.equal(systemd.get(key), value, `systemd ${version}: ${key} in ${JSON.stringify(text)}`);
    assert.equal(ecsInit.get(key), value, `ecs-init: ${key} in ${JSON.stringify(text)}`);
  }
}

async function convergeTwice(host: FakeHost, agentEnv = AGENT_ENV): Promise<string> {
  const context = await contextFor(host, agentEnv);
  await converge(context);
  assert.deepEqual(await planFor(context), [], 'a second plan is empty');
  return written(host);
}

test('a comment ending in "\\" before a managed line: an empty line keeps systemd 252 from swallowing it', async () => {
  const host = hostWith('# note \\\nECS_CLUSTER=old\nECS_HAND=1\n');
  const [write] = await planFor(await contextFor(host, AGENT_ENV));
  assert.match(
    write?.summary ?? '',
    /an empty line after line 1, which ends in "\\", keeps systemd from joining the next line onto it/,
  );
  assert.deepEqual(renderSteps(write?.steps ?? []), [
    'write /etc/ecs/ecs.config (mode 0644)',
    '  - ECS_CLUSTER=old',
    '  + (an empty line)',
    '  + ECS_CLUSTER=prod',
    '  + ECS_LOGLEVEL=warn',
  ]);
  const text = await convergeTwice(host);
  assert.equal(text, '# note \\\n\nECS_CLUSTER=prod\nECS_HAND=1\nECS_LOGLEVEL=warn\n');
  assertReadAlike(text, 252);
  assert.equal(readAsSystemd(text, 252).variables.get('ECS_HAND'), '1');
});

test('the warning names the comment and what each reader does with the next line, before the fix', async () => {
  const warnings = await warningsFor(await contextFor(hostWith('# note \\\nECS_HAND=1\n'), AGENT_ENV));
  assert.ok(
    warnings.includes(
      '/etc/ecs/ecs.config:1: a comment ending in "\\", which systemd before v254 continues onto the next line: ' +
        'systemd 252 reads line 2 as part of line 1, ecs-init as lines of their own',
    ),
    warnings.join('\n'),
  );
  assert.ok(
    warnings.some((warning) => /ECS_HAND: systemd 252 reads nothing, ecs-init reads "1"/.test(warning)),
    warnings.join('\n'),
  );
  const newer = await warningsFor(await contextFor(hostWith('# note \\\nECS_HAND=1\n', '255.4-1ubuntu8'), AGENT_ENV));
  assert.deepEqual(newer, [], 'systemd 255 reads the line after the comment');
});

test('a value ending in "\\" before an appended managed line: guarded the same way', async () => {
  const text = await convergeTwice(hostWith('ECS_HAND=x\\'));
  assert.equal(text, 'ECS_HAND=x\\\n\nECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n');
  assertReadAlike(text, 252);
});

test('a CR-hidden assignment after the managed line: the managed keys move after it, read last', async () => {
  const host = hostWith('ECS_CLUSTER=old\nECS_HAND=1\rECS_CLUSTER=evil\n# end\n');
  const [write] = await planFor(await contextFor(host, AGENT_ENV));
  assert.match(
    write?.summary ?? '',
    /the managed keys are written together from line 3: in their usual places hand-written lines would keep/,
  );
  const text = await convergeTwice(host);
  assert.equal(text, 'ECS_HAND=1\rECS_CLUSTER=evil\n# end\nECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n');
  assertReadAlike(text, 252);
  const warnings = await warningsFor(await contextFor(host, AGENT_ENV));
  assert.ok(
    warnings.some((warning) =>
      warning.startsWith(
        '/etc/ecs/ecs.config:1: CR (carriage return) inside the line: systemd starts a new line there and reads ' +
          '"ECS_HAND=1" and "ECS_CLUSTER=evil" as separate lines, ecs-init reads one line',
      ),
    ),
    warnings.join('\n'),
  );
});

test('an open quote at the end: the managed keys go before it', async () => {
  const text = await convergeTwice(hostWith('# top\nECS_CLUSTER=old\nECS_HAND="open\nmore\n'));
  assert.equal(text, '# top\nECS_CLUSTER=prod\nECS_LOGLEVEL=warn\nECS_HAND="open\nmore\n');
  assertReadAlike(text, 252);
});

test('no place works (a CR-hidden assignment, an open quote on the same line): stopped, 78, no write', async () => {
  const existing = 'ECS_CLUSTER=old\nECS_HAND=1\rECS_CLUSTER=evil\rECS_OPEN="x\n';
  const host = hostWith(existing);
  const context = await contextFor(host, AGENT_ENV);
  const [plan] = await planAll([ecsConfigConcern], context);
  assert.equal(plan?.exitCode, 78);
  assert.match(
    plan?.error ?? '',
    /^\/etc\/ecs\/ecs\.config: nothing is changed: hand-written lines keep systemd 252 and ecs-init from reading the/,
  );
  assert.match(
    plan?.error ?? '',
    /ECS_CLUSTER would not be read as written: systemd 252 reads "evil", ecs-init reads "prod"/,
  );
  assert.match(plan?.error ?? '', /\/etc\/ecs\/ecs\.config:2: CR \(carriage return\) inside the line/);
  await assert.rejects(converge(context));
  assert.deepEqual(host.writes, []);
});

test('a NUL anywhere: systemd refuses the whole file, nothing written could reach it; stopped, named', async () => {
  const host = hostWith('# a\0b\nECS_CLUSTER=old\n');
  const [plan] = await planAll([ecsConfigConcern], await contextFor(host, AGENT_ENV));
  assert.match(
    plan?.error ?? '',
    /\/etc\/ecs\/ecs\.config:1: NUL byte: systemd 252 refuses the whole file, so ecs\.service starts with none/,
  );
  assert.equal(plan?.exitCode, 78);
  assert.deepEqual(host.writes, []);
});

test('invalid UTF-8: in a hand-written value the concern stops; in a comment it is kept byte for byte', async () => {
  const inValue = hostWith(Uint8Array.from([...Buffer.from('ECS_HAND=caf'), 0xe9, 0x0a]));
  const [plan] = await planAll([ecsConfigConcern], await contextFor(inValue, AGENT_ENV));
  assert.match(
    plan?.error ?? '',
    /ecs\.config:1: invalid UTF-8 byte 0xE9 in an assignment: systemd 252 refuses the whole file/,
  );

  const comment = Uint8Array.from([...Buffer.from('# caf'), 0xe9, 0x0a]);
  const host = hostWith(comment);
  await convergeTwice(host);
  assert.deepEqual(
    host.files.get(ECS_CONFIG)?.data,
    Uint8Array.from([...comment, ...encodeLossless('ECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n')]),
  );
});

test('unknown systemd version: the file must read alike to every modelled version, and the plan says so', async () => {
  const host = new FakeHost();
  host.putFile(ECS_CONFIG, '# note \\\nECS_CLUSTER=old\n');
  const context = await contextFor(host, AGENT_ENV);
  assert.match(
    (await warningsFor(context))[0] ?? '',
    /is unknown \(no systemd package installed\): the file is checked against every modelled version \(systemd 245 to/,
  );
  await converge(context);
  for (const version of [245, 246, 247, 249, 252, 254, 255]) assertReadAlike(written(host), version);
});

test('the systemd version comes from the rpm database on RPM systems', async () => {
  const { detectSystemdVersion } = await import('../../../src/concerns/ecs-config/systemd-version.ts');
  const { osFacts } = await import('../../support/ecs-config.ts');
  const host = new FakeHost().answer('rpm', { stdout: '252.23-2.amzn2023' }, ['-q']);
  const os = await osFacts();
  const rpmOs = { ...os, support: { status: 'supported', packageManager: 'dnf' } as const };
  assert.deepEqual(await detectSystemdVersion(host, rpmOs), {
    version: 252,
    evidence: 'systemd package 252.23-2.amzn2023',
  });
  assert.deepEqual(
    await detectSystemdVersion(new FakeHost({ '/var/lib/dpkg/status': dpkgWithSystemd('245.4-4ubuntu3.24') }), os),
    {
      version: 245,
      evidence: 'systemd package 245.4-4ubuntu3.24',
    },
  );
});

test('empty values of keys ecs-init defaults are warned about, naming what they turn off', async () => {
  const host = hostWith('ECS_ENABLE_TASK_ENI=\n');
  const warnings = await warningsFor(await contextFor(host, 'ECS_CLUSTER=prod\nECS_ENABLE_TASK_IAM_ROLE=\n'));
  assert.ok(
    warnings.includes(
      `${ECS_CONFIG}: ECS_ENABLE_TASK_IAM_ROLE is empty: that replaces ecs-init's default true, ` +
        'so task IAM roles are turned off; remove the key to keep the default',
    ),
    warnings.join('\n'),
  );
  assert.ok(
    warnings.some((warning) =>
      /ECS_ENABLE_TASK_ENI is empty: .* awsvpc network mode \(task ENIs\) is turned off/.test(warning),
    ),
    warnings.join('\n'),
  );
});

test('a hand-written line too long for execve stops the concern with the line and the limit named', async () => {
  const big = `ECS_HAND=${'a'.repeat(131_071 - 'ECS_HAND='.length)}`;
  await convergeTwice(hostWith(`${big}\n`));
  const [plan] = await planAll([ecsConfigConcern], await contextFor(hostWith(`${big}a\n`), AGENT_ENV));
  assert.match(
    plan?.error ?? '',
    /^\/etc\/ecs\/ecs\.config:1: ECS_HAND is too long: ECS_HAND=value is 131,072 bytes, over .*; nothing is changed$/,
  );
  assert.equal(plan?.exitCode, 78);
});

test('hand-written secrets in any form are never shown by plan, and make the file 0600', async () => {
  const forms = [
    'export ECS_ENGINE_AUTH_DATA={"r":{"password":"S3CRET"}}',
    'ECS_DB_PASSWORD = S3CRET',
    'ECS_API_KEY="S3CRET"\r',
    'ECS_HAND=1\rECS_SESSION_TOKEN=S3CRET',
  ];
  for (const line of forms) {
    const host = hostWith(`${line}\n`);
    const context = await contextFor(host, 'ECS_CLUSTER=prod\nECS_DB_PASSWORD=S3CRET\nECS_API_KEY=S3CRET\n');
    const shown = JSON.stringify([await planFor(context), await warningsFor(context)]);
    assert.doesNotMatch(shown, /S3CRET/, line);
    await converge(context);
    assert.equal(host.files.get(ECS_CONFIG)?.mode, 0o600, line);
  }
});

test('hand-written variables taking more than 1 MiB of execve together stop the concern, named', async () => {
  const lines = Array.from({ length: 11 }, (_, index) => `ECS_HAND_${index}=${'h'.repeat(100_000)}`);
  const [plan] = await planAll([ecsConfigConcern], await contextFor(hostWith(`${lines.join('\n')}\n`), AGENT_ENV));
  assert.match(
    plan?.error ?? '',
    /^\/etc\/ecs\/ecs\.config: the variables of \/etc\/ecs\/ecs\.config take 1,100,\d{3} bytes .* limit of 1,048,576/,
  );
  assert.equal(plan?.exitCode, 78);
});
