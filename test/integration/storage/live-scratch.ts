import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';

import { createStorageConcern } from '../../../src/concerns/storage/index.ts';
import type { StorageAction } from '../../../src/concerns/storage/plan.ts';
import { type StorageSettings, storageSettings } from '../../../src/concerns/storage/settings.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { mountableScratch } from '../../support/loop-device.ts';
import { FIXTURES } from '../../support/paths.ts';
import { concernContext } from '../../support/concern-context.ts';

/**
 * A scratch directory played as a running Debian 12 system: the storage
 * concern works on it for real (sparse file, mkfs.btrfs, loop mount, fstab,
 * daemon.json), with every path below the directory. btrfs-progs is recorded
 * as installed there: the tools themselves are this machine's.
 */
export interface LiveScratch {
  readonly root: string;
  readonly context: ConcernContext;
  readonly settings: StorageSettings;
  /** root + a path of the scratch system. */
  path(managed: string): string;
  plan(): Promise<StorageAction[]>;
  /** Plans and applies every step, as the runner does; returns the steps. */
  converge(): Promise<StorageAction[]>;
}

const concern = createStorageConcern({ live: () => true });

export async function liveScratch(t: TestContext, agentEnv: string): Promise<LiveScratch> {
  const root = mountableScratch(t, 'eha-storage-');
  cpSync(`${FIXTURES}/os/debian-12`, root, { recursive: true });
  mkdirSync(`${root}/var/lib/dpkg`, { recursive: true });
  writeFileSync(
    `${root}/var/lib/dpkg/status`,
    'Package: btrfs-progs\nStatus: install ok installed\nVersion: 6.2-1\n\n',
  );
  mkdirSync(`${root}/etc/systemd/system`, { recursive: true });
  writeFileSync(`${root}/etc/fstab`, '# <file system> <mount point> <type> <options> <dump> <pass>\n');
  const host = new RealHost(root);
  const config = loadConfig({ file: '/etc/ecs-host-agent/agent.env', fileText: agentEnv, env: {}, flags: {} });
  const context: ConcernContext = await concernContext(host, config);
  const plan = async () => concern.plan(await concern.gather(context), context);
  return {
    root,
    context,
    settings: storageSettings(config) as StorageSettings,
    path: (managed) => `${root}${managed}`,
    plan,
    async converge() {
      const actions = await plan();
      for (const action of actions) await concern.apply(action, context);
      return actions;
    },
  };
}
