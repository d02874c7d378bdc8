import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { resolveParentUnderRoot, resolveUnderRoot } from '../../../src/host/root-path.ts';
import { scratchDir } from '../../support/scratch.ts';

function imageRoot(t: Parameters<typeof scratchDir>[0]): string {
  const root = scratchDir(t);
  mkdirSync(`${root}/usr/lib`, { recursive: true });
  mkdirSync(`${root}/etc`);
  mkdirSync(`${root}/run`);
  writeFileSync(`${root}/usr/lib/os-release`, 'ID=debian\n');
  symlinkSync('../usr/lib/os-release', `${root}/etc/os-release`);
  symlinkSync('/run', `${root}/var-run`);
  symlinkSync('../../../../../etc/shadow', `${root}/etc/escape`);
  symlinkSync('loop-b', `${root}/loop-a`);
  symlinkSync('loop-a', `${root}/loop-b`);
  return root;
}

test('with root "/" a path is only normalised', async () => {
  assert.equal(await resolveUnderRoot('/', '/etc/../etc/os-release'), '/etc/os-release');
});

test('relative symlinks inside the image resolve inside it', async (t) => {
  const root = imageRoot(t);
  assert.equal(await resolveUnderRoot(root, '/etc/os-release'), `${root}/usr/lib/os-release`);
});

test('absolute symlink targets start again at the image root, as in the booted image', async (t) => {
  const root = imageRoot(t);
  assert.equal(await resolveUnderRoot(root, '/var-run/reboot-required'), `${root}/run/reboot-required`);
});

test('a path or symlink that climbs out of the root is an error', async (t) => {
  const root = imageRoot(t);
  await assert.rejects(resolveUnderRoot(root, '/../../etc/shadow'), /escapes the image root/);
  await assert.rejects(resolveUnderRoot(root, '/etc/escape'), /escapes the image root/);
});

test('symlink loops end with an error, not a hang', async (t) => {
  await assert.rejects(resolveUnderRoot(imageRoot(t), '/loop-a'), /too many symlinks/);
});

test('relative paths are refused', async () => {
  await assert.rejects(resolveUnderRoot('/img', 'etc/passwd'), /path must be absolute/);
});

test('the parent form leaves a final symlink alone (lstat, rm, rename replace the link itself)', async (t) => {
  const root = imageRoot(t);
  assert.equal(await resolveParentUnderRoot(root, '/etc/os-release'), `${root}/etc/os-release`);
  assert.equal(await resolveParentUnderRoot(root, '/var-run/x'), `${root}/run/x`);
});
