import type { ConcernContext } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { performSteps } from '../../core/step.ts';
import type { PackageManager } from '../../pkg/package-manager.ts';
import { probeSignature } from '../../block/probe.ts';
import { withDockerStopped } from './docker-service.ts';
import { hasEntries } from './facts.ts';
import { migrateAndMount, mountOnFreshDirectory } from './migrate.ts';
import { mountUnitSteps } from './persist.ts';
import type { StorageAction, SwitchAction } from './plan.ts';
import { STORE } from './settings.ts';

/** The only place the storage concern changes the system: the action's steps. */
export async function applyStorage(
  action: StorageAction,
  context: ConcernContext,
  packages: PackageManager,
): Promise<void> {
  const { host } = context;
  if (action.kind === 'switch') return switchStore(action, context);
  if (action.kind === 'write-mount-unit' && action.uuid === null) {
    // The filesystem an earlier step made: its UUID is read now.
    const uuid = (await probeSignature(host, action.source))?.uuid;
    if (!uuid) throw new AgentError(`${action.source} has no filesystem UUID after mkfs.btrfs`);
    return performSteps(host, mountUnitSteps(uuid, null, context.os.systemdRunning === true));
  }
  await performSteps(host, action.steps, packages);
}

/** With Docker stopped (it cannot write any more): the store mounted, what was there moved first; daemon.json set. */
async function switchStore(action: SwitchAction, context: ConcernContext): Promise<void> {
  const { host } = context;
  await withDockerStopped(host, context.os.systemdRunning === true, action.dockerUnits, async () => {
    if (action.migrate) await migrateAndMount(host, action.backing);
    else if (action.mount) await mountFresh(context, action);
    if (action.daemonJson) await performSteps(host, [action.daemonJson]);
  });
}

/** The plan found nothing in /var/lib/docker to move: whatever appeared since would be hidden under the mount. */
async function mountFresh(context: ConcernContext, action: SwitchAction): Promise<void> {
  if (await hasEntries(context.host, STORE.mountPoint)) {
    const why = 'holds data that was not there when the store was planned; plan again to move it';
    throw new AgentError(`${STORE.mountPoint} ${why}`);
  }
  await mountOnFreshDirectory(context.host, action.backing);
}
