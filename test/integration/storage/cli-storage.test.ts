import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli } from '../../support/cli.ts';
import { scratchDir } from '../../support/scratch.ts';

/**
 * Only read-only paths of the command run on this machine: a backing file that does not exist is never created by
 * status or grow.
 */
const NOT_SET_UP = { STORAGE_MODE: 'btrfs-file', STORAGE_FILE: '/nonexistent/ecs-host-agent-test/store.btrfs' };

test('storage status --json on a machine without the store: not mounted, figures absent, exit 0', async () => {
  const result = await runCli(['storage', 'status', '--json'], NOT_SET_UP);
  assert.equal(result.status, 0, result.stderr);
  const status = JSON.parse(result.stdout);
  assert.equal(status.mode, 'btrfs-file');
  assert.equal(status.backing, NOT_SET_UP.STORAGE_FILE);
  assert.deepEqual([status.mounted, status.usage, status.warnPercent], [false, null, 85]);
});

test('storage grow before apply fails saying so; bad sizes and subcommands are usage errors', async () => {
  const grow = await runCli(['storage', 'grow', '--size', '200G'], NOT_SET_UP);
  assert.equal(grow.status, 1);
  assert.match(grow.stderr, /is not mounted on \/var\/lib\/docker; run apply first/);
  const badSize = await runCli(['storage', 'grow', '--size', '200Q'], NOT_SET_UP);
  assert.equal(badSize.status, 2);
  assert.match(
    badSize.stderr,
    /--size "200Q" is not a size; allowed: a whole number of bytes with an optional K, M, G or T suffix/,
  );
  const missing = await runCli(['storage'], NOT_SET_UP);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /storage: expected status or grow/);
});

test('storage commands need a running system and a storage mode', async (t) => {
  const image = await runCli(['storage', 'status', '--root', scratchDir(t)], NOT_SET_UP);
  assert.equal(image.status, 2);
  assert.match(image.stderr, /an image root \(--root\) has none until it boots/);
  const none = await runCli(['storage', 'status']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /STORAGE_MODE=none \(default\); nothing is managed/);
});

test('a bad STORAGE_WARN_PERCENT is a configuration error naming key, value and what is allowed', async () => {
  const result = await runCli(['storage', 'status'], { ...NOT_SET_UP, STORAGE_WARN_PERCENT: '120' });
  assert.equal(result.status, 78);
  assert.match(
    result.stderr,
    /environment: STORAGE_WARN_PERCENT="120" is not a whole number in range; allowed: a whole number from 1 to 100/,
  );
});
