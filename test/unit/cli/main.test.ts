import assert from 'node:assert/strict';
import { test } from 'node:test';

import { COMMANDS } from '../../../src/cli/commands.ts';
import { main, parseCommandLine } from '../../../src/cli/main.ts';

function sink(): { write(data: string | Uint8Array): boolean; text: string } {
  const recorded = { text: '', write: (data: string | Uint8Array) => ((recorded.text += String(data)), true) };
  return recorded;
}

test('--version and version --json print the versions, with no config, Host or parser loaded', async () => {
  for (const [argv, expected] of [
    [['--version'], /^ecs-host-agent \d+\.\d+\.\d+\S* \(node \d+\.\d+\.\d+\)\n$/],
    [['version', '--json'], /^\{"agent":"[^"]+","node":"[^"]+"\}\n$/],
  ] as const) {
    const [stdout, stderr] = [sink(), sink()];
    assert.equal(await main(argv, { env: {}, stdout, stderr }), 0);
    assert.match(stdout.text, expected);
    assert.equal(stderr.text, '');
  }
});

test('every command parses no arguments as its options with their defaults, as with arguments', () => {
  for (const command of COMMANDS) {
    const without = parseCommandLine(command, []);
    const withJson = parseCommandLine(command, ['--json']);
    assert.deepEqual({ ...without.values, json: true }, { ...withJson.values }, command.name);
    assert.deepEqual(without.positionals, []);
  }
  const server = COMMANDS.find((command) => command.name === 'control-server');
  assert.equal(server && parseCommandLine(server, []).values.listen, '127.0.0.1:8480');
});

test('the internal job command: not in --help nor in the list an unknown command prints; it needs a job', async () => {
  const [help, unknown, bare, stray] = [sink(), sink(), sink(), sink()];
  assert.equal(await main(['--help'], { env: {}, stdout: help, stderr: sink() }), 0);
  assert.doesNotMatch(help.text, /^ {2}job /m);
  assert.match(help.text, /^ {2}run /m);
  assert.equal(await main(['nope'], { env: {}, stdout: sink(), stderr: unknown }), 2);
  assert.doesNotMatch(unknown.text, /\bjob\b/);
  assert.equal(await main(['job'], { env: {}, stdout: sink(), stderr: bare }), 2);
  assert.match(bare.text, /job: expected the name of one daemon job, got \[\]/);
  assert.equal(await main(['job', 'no-such-job'], { env: {}, stdout: sink(), stderr: stray }), 2);
  assert.match(stray.text, /got \["no-such-job"\]/);
});
