import { mkdirSync, symlinkSync } from 'node:fs';
import type { TestContext } from 'node:test';

import { RealHost } from '../../../src/host/real-host.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';
import { hostContract } from './contract.ts';

/** As root (owners are part of the contract), under systemd's default UMask=0022 (the agent's unit sets none). */
function asTheAgent(t: TestContext): void {
  requireRoot();
  const umask = process.umask(0o022);
  t.after(() => process.umask(umask));
}

hostContract('RealHost on this machine', async (t) => {
  asTheAgent(t);
  return { host: new RealHost('/'), base: scratchDir(t), symlink: async (target, path) => symlinkSync(target, path) };
});

hostContract('RealHost under an image root (--root)', async (t) => {
  asTheAgent(t);
  const root = scratchDir(t);
  mkdirSync(`${root}/contract`);
  const symlink = async (target: string, path: string) => symlinkSync(target, `${root}${path}`);
  return { host: new RealHost(root), base: '/contract', symlink };
});
