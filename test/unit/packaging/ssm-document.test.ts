/**
 * packaging/ssm/ecs-host-agent-install.json: a well-formed Command document
 * whose parameters are all declared, all used, and constrained so that their
 * values are safe inside the shell step, which parses as a shell script.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { REPO } from '../../support/paths.ts';

interface Parameter {
  readonly type: string;
  readonly allowedPattern: string;
  readonly default?: string;
}

const DOCUMENT = JSON.parse(readFileSync(`${REPO}packaging/ssm/ecs-host-agent-install.json`, 'utf8')) as {
  schemaVersion: string;
  parameters: Record<string, Parameter>;
  mainSteps: { action: string; inputs: Record<string, unknown> }[];
};
const SAMPLES: Record<string, { good: string[]; bad: string[] }> = {
  packageFolder: {
    good: ['https://s3.eu-west-1.amazonaws.com/my-bucket/ecs-host-agent/0.1.0-1/'],
    bad: [
      'https://s3.amazonaws.com/b/x',
      "https://s3.amazonaws.com/b/'$(reboot)'/",
      'http://s3.amazonaws.com/b/',
      'https://s3.amazonaws.com/a b/',
    ],
  },
  version: { good: ['0.1.0-1', '1.2.3~beta.1-2'], bad: ['0.1.0', "0.1.0-1'; reboot; '", 'latest'] },
  ecsCluster: { good: ['', 'production', 'team_a-1'], bad: ["x'; reboot; '", 'a b', 'a'.repeat(256)] },
};

function placeholders(text: string): Set<string> {
  return new Set([...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1] as string));
}

test(
  'a schema 2.2 Command document downloading with aws:downloadContent and installing with ' + 'aws:runShellScript',
  () => {
    assert.equal(DOCUMENT.schemaVersion, '2.2');
    assert.deepEqual(
      DOCUMENT.mainSteps.map((step) => step.action),
      ['aws:downloadContent', 'aws:runShellScript'],
    );
    assert.deepEqual(
      [...placeholders(JSON.stringify(DOCUMENT.mainSteps))].sort(),
      Object.keys(DOCUMENT.parameters).sort(),
      'every parameter used, none undeclared',
    );
  },
);

for (const [name, { good, bad }] of Object.entries(SAMPLES)) {
  test(`parameter ${name} accepts what it should and nothing a shell would act on`, () => {
    const parameter = DOCUMENT.parameters[name];
    assert.ok(parameter, `${name} is declared`);
    const pattern = new RegExp(parameter.allowedPattern);
    for (const value of good) assert.match(value, pattern);
    for (const value of bad) assert.doesNotMatch(value, pattern);
    if (parameter.default !== undefined) assert.match(parameter.default, pattern);
  });
}

test('the shell step parses with sample values filled in', () => {
  const script = (DOCUMENT.mainSteps[1]?.inputs.runCommand as string[]).join('\n');
  const filled = script.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => SAMPLES[name]?.good[0] ?? '');
  const parsed = spawnSync('sh', ['-n'], { input: filled, encoding: 'utf8' });
  assert.equal(parsed.status, 0, parsed.stderr);
  assert.match(filled, /--force-confold/, 'an upgrade keeps an edited agent.env');
});
