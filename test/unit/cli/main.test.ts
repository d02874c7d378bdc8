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
