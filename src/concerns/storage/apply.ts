import { posix } from 'node:path';

import type { ConcernContext } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { execChecked } from '../../host/host.ts';
import type { PackageManager } from '../../pkg/package-manager.ts';
import { daemonJsonWithBtrfs } from './daemon-json.ts';
import { withDockerStopped } from './docker-service.ts';
import { gatherStore } from './facts.ts';
import { migrateAndMount, mountOnFreshDirectory } from './migrate.ts';
import { mountUnit } from './persist.ts';
import type { StorageAction } from './plan.ts';
import { probeSignature } from '../block/probe.ts';
import { onDisk, runLocal } from '../block/run.ts';
import { STORE, type StorageSettings } from './settings.ts';

/** The only place the storage concern changes the system. */
export async function applyStorage(
  action: StorageAction,
  context: ConcernContext,
  settings: StorageSettings,
  packages: PackageManager,
): Promise<void> {
  const { host } = context;
  switch (action.kind) {
    case 'install-tools':
      return packages.install(action.packages);
    case 'create-file':
      if ((await host.lstat(action.path)) !== null) throw new AgentError(`${action.path} appeared since the plan; not touching it, plan again`);
      await host.mkdir(posix.dirname(action.path));
      await host.writeFileAtomic(action.path, '', { mode: 0o600 });
      await runLocal(host, 'truncate', ['--size', String(action.size), '--', onDisk(host, action.path)]);
      return;
    case 'format':
      // No --force: should anything have appeared since the plan, mkfs.btrfs refuses.
      if (action.wipe) await runLocal(host, 'wipefs', ['--all', '--', action.source]);
      await runLocal(host, 'mkfs.btrfs', ['--label', STORE.label, '--', action.source]);
      return;
    case 'write-fstab':
      return host.writeFileAtomic(STORE.fstab, action.text);
    case 'write-mount-unit':
      return writeMountUnit(context, action.source);
    case 'switch':
      return switchStore(context, settings);
    case 'remove-retired':
      return host.rm(STORE.retired, { recursive: true });
  }
}

async function writeMountUnit(context: ConcernContext, source: string): Promise<void> {
  const { host } = context;
  const uuid = (await probeSignature(host, source))?.uuid;
  if (!uuid) throw new AgentError(`${source} has no filesystem UUID after mkfs.btrfs`);
  await host.mkdir(posix.dirname(STORE.mountUnit));
  await host.writeFileAtomic(STORE.mountUnit, mountUnit(uuid));
  await execChecked(host, 'systemctl', ['enable', '--', STORE.mountUnitName], { timeoutMs: 60_000 });
  if (context.os.systemdRunning === true) await runLocal(host, 'systemctl', ['daemon-reload']);
}

async function switchStore(
  context: ConcernContext,
  settings: StorageSettings,
): Promise<void> {
  const { host } = context;
  await withDockerStopped(host, context.os.systemdRunning === true, async () => {
    // Facts again, now that Docker is stopped and cannot write any more.
    const store = await gatherStore(context, settings);
    if (!store.mountedFromBacking) {
      if (store.oldStoreHasData) await migrateAndMount(host, store.backing);
      else await mountOnFreshDirectory(host, store.backing);
    }
    const daemonJson = daemonJsonWithBtrfs(store.daemonJson);
    if (daemonJson !== null) {
      await host.mkdir(posix.dirname(STORE.daemonJson));
      await host.writeFileAtomic(STORE.daemonJson, daemonJson);
    }
  });
}
