/**
 * /usr/bin/ecs-host-agent (packaging/wrapper.sh) refuses, in words, a system
 * whose glibc is older than the 2.28 the bundled Node.js needs, and otherwise
 * hands its arguments to that Node.js unchanged. getconf and node are stubs;
 * the wrapper's library directory is pointed at the scratch directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { REPO } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';

const LIB_LINE = 'AGENT_LIB=/usr/lib/ecs-host-agent';

function wrapperWith(
  dir: string,
  getconfScript: string,
): (args: readonly string[]) => { status: number | null; stdout: string; stderr: string } {
  const wrapper = readFileSync(`${REPO}packaging/wrapper.sh`, 'utf8');
  assert.ok(wrapper.includes(LIB_LINE), `the wrapper sets ${LIB_LINE}`);
  writeFileSync(`${dir}/wrapper`, wrapper.replace(LIB_LINE, `AGENT_LIB=${dir}/lib`), { mode: 0o755 });
  mkdirSync(`${dir}/lib`);
  writeFileSync(`${dir}/lib/node`, '#!/bin/sh\nprintf "%s|" "$@"\n', { mode: 0o755 });
  mkdirSync(`${dir}/bin`);
  writeFileSync(`${dir}/bin/getconf`, `#!/bin/sh\n${getconfScript}\n`, { mode: 0o755 });
  return (args) => {
    const result = spawnSync(`${dir}/wrapper`, args, { encoding: 'utf8', env: { PATH: `${dir}/bin:/usr/bin:/bin` } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
}

for (const glibc of ['2.26', '2.22', '2.9', '1.99']) {
  test(`glibc ${glibc} is refused with exit 3, naming what is needed`, (t) => {
    const run = wrapperWith(scratchDir(t), `echo "glibc ${glibc}"`);
    const result = run(['--version']);
    assert.equal(result.status, 3);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      new RegExp(
        `^ecs-host-agent: this system has glibc ` +
          `${glibc.replace('.', '\\.')}; the agent's Node\\.js runtime needs glibc 2\\.28 or later ` +
          `\\(Amazon Linux 2 and SLES 12 are too old`,
      ),
    );
  });
}

test('a system without the GNU C library (getconf cannot tell) is refused', (t) => {
  const run = wrapperWith(scratchDir(t), 'echo "getconf: Unrecognized variable" >&2; exit 1');
  const result = run(['--version']);
  assert.equal(result.status, 3);
  assert.match(
    result.stderr,
    /this system has no GNU C library; the agent's Node\.js runtime needs glibc 2\.28 or later/,
  );
});

/** The V8 flags the wrapper gives node before the bundle. */
const V8_FLAGS = ['--max-semi-space-size=1', '--max-opt=1', '--optimize-for-size'];

for (const glibc of ['2.28', '2.36', '3.0']) {
  test(`glibc ${glibc} runs the bundle on the shipped Node.js with its V8 flags and the arguments unchanged`, (t) => {
    const dir = scratchDir(t);
    const run = wrapperWith(dir, `echo "glibc ${glibc}"`);
    const result = run(['detect', '--json', 'two words', '']);
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    assert.equal(result.stdout, `${V8_FLAGS.join('|')}|${dir}/lib/ecs-host-agent.mjs|detect|--json|two words||`);
  });
}

test("the shipped Node.js takes the wrapper's V8 flags (an unknown one would stop every command)", () => {
  const result = spawnSync(process.execPath, [...V8_FLAGS, '-e', 'console.log(process.versions.node)'], {
    encoding: 'utf8',
  });
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
  assert.equal(result.stdout.trim(), process.versions.node);
});
