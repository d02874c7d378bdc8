import type { Command } from '../../core/command.ts';
import type { StepAction } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { type Step, writeStep, type WriteStep } from '../../core/step.ts';
import { daemonJsonWithBtrfs } from './daemon-json.ts';
import { dockerUnitsCommand } from './docker-service.ts';
import type { Backing, StorageFacts, StoreFacts } from './facts.ts';
import { migrationSteps } from './migrate.ts';
import { mountCommand } from './mount.ts';
import { currentFstabLine, fstabStep, isOwnMountUnit, mountUnit, mountUnitSteps, withFstabLine } from './persist.ts';
import { describeSignature } from '../../block/probe.ts';
import { localCommand } from '../../block/run.ts';
import { isOwnFilesystem, STORE, type StorageSettings } from './settings.ts';

/** Mounts the store on /var/lib/docker (with migrate, once what is there was copied onto it) and sets daemon.json. */
export type SwitchAction = StepAction<'switch'> & {
  readonly backing: Pick<Backing, 'kind' | 'source'>;
  readonly mount: boolean;
  readonly migrate: boolean;
  /** The Docker units stopped around the switch and started again. */
  readonly dockerUnits: readonly string[];
  readonly daemonJson: WriteStep | null;
};

export type StorageAction =
  | StepAction<'install-tools' | 'create-file' | 'format' | 'write-fstab' | 'remove-retired'>
  | (StepAction<'write-mount-unit'> & {
      readonly source: string;
      /** Null: the filesystem is made by this apply, its UUID read once mkfs made it. */
      readonly uuid: string | null;
    })
  | SwitchAction;

/** What plan needs of the system besides the facts. */
export interface StoragePlanContext {
  readonly installCommands: (packages: readonly string[]) => Command[];
  /** A managed path as a path of this machine, for the tools that run here (mkfs, mount). */
  readonly onDisk: (path: string) => string;
  readonly systemdRunning: boolean;
}

/** The backing holds something the agent did not make, and STORAGE_FORCE_FORMAT is off. */
export class FormatRefusedError extends AgentError {}

/** What the steps show for a UUID mkfs has not made yet. */
const NEW_UUID = '<UUID of the new filesystem>';

/** Pure: the steps from the facts to a mounted Btrfs store Docker uses. */
export function planStorage(facts: StorageFacts, context: StoragePlanContext): StorageAction[] {
  const actions: StorageAction[] = [];
  if (!facts.toolsInstalled) actions.push(installTools(facts, context));
  const { settings, store } = facts;
  if (store === null) return actions;
  const format = !isOwnFilesystem(store.backing.signature);
  if (settings.mode === 'btrfs-file' && !store.backing.exists) actions.push(createFile(settings, context));
  if (format) actions.push(formatBacking(settings, store));
  actions.push(...persist(settings, store, format, context));
  const change = switchStore(store, facts.dockerUnits, context);
  if (change) actions.push(change);
  if (store.retiredLeftover) actions.push(removeRetired(store));
  return actions;
}

function installTools(facts: StorageFacts, context: StoragePlanContext): StorageAction {
  const later =
    'image root: the store itself (file or device, mkfs, mount, daemon.json) ' +
    'is made by the agent on the booted instance';
  const firstBoot = facts.live ? [] : [{ note: later }];
  return {
    kind: 'install-tools',
    summary: `install ${facts.btrfsPackage} (mkfs.btrfs, btrfs)`,
    steps: [{ install: context.installCommands([facts.btrfsPackage]) }, ...firstBoot],
  };
}

function createFile(settings: StorageSettings, context: StoragePlanContext): StorageAction {
  return {
    kind: 'create-file',
    summary: `create the sparse file ${settings.file} (${settings.size} bytes, thin: allocated as Docker writes)`,
    steps: [
      writeStep(settings.file, '', { mode: 0o600, exclusive: true }),
      { run: localCommand('truncate', ['--size', String(settings.size), '--', context.onDisk(settings.file)]) },
    ],
  };
}

function formatBacking(settings: StorageSettings, store: StoreFacts): StorageAction {
  const { backing } = store;
  const found = backing.signature && describeSignature(backing.signature);
  if (found && !settings.forceFormat) {
    throw new FormatRefusedError(
      `refusing to format ${backing.name}: it holds ${found}; set STORAGE_FORCE_FORMAT=yes to erase it`,
    );
  }
  const wipe: Step[] = found ? [{ run: localCommand('wipefs', ['--all', '--', backing.source]) }] : [];
  return {
    kind: 'format',
    summary: found
      ? `ERASE ${found} on ${backing.name} and format it as Btrfs (STORAGE_FORCE_FORMAT=yes)`
      : `format ${backing.name} as Btrfs`,
    // No --force: should anything have appeared since the plan, mkfs.btrfs refuses.
    steps: [...wipe, { run: localCommand('mkfs.btrfs', ['--label', STORE.label, '--', backing.source]) }],
  };
}

function persist(
  settings: StorageSettings,
  store: StoreFacts,
  formatting: boolean,
  context: StoragePlanContext,
): StorageAction[] {
  if (settings.mode === 'btrfs-file') {
    if (store.mountUnit !== null)
      throw conflict(`${STORE.mountUnit} exists, but STORAGE_MODE=btrfs-file mounts the store from ${STORE.fstab}`);
    if (withFstabLine(store.fstab, settings.file) === store.fstab) return [];
    const summary = `mount the store at boot from ${STORE.fstab}`;
    return [{ kind: 'write-fstab', summary, steps: [fstabStep(store.fstab, settings.file)] }];
  }
  const line = currentFstabLine(store.fstab);
  if (line !== null)
    throw conflict(
      `${STORE.fstab} mounts ${STORE.mountPoint} (${line}), but ` +
        `STORAGE_MODE=btrfs-device mounts it with ${STORE.mountUnit}`,
    );
  if (store.mountUnit !== null && !isOwnMountUnit(store.mountUnit)) {
    throw new AgentError(
      `${STORE.mountUnit} was not written by the agent; remove it to let the agent manage the store`,
    );
  }
  const uuid = formatting ? null : (store.backing.signature?.uuid ?? null);
  if (uuid !== null && store.mountUnit === mountUnit(uuid) && store.mountUnitEnabled) return [];
  return [
    {
      kind: 'write-mount-unit',
      source: store.backing.source,
      uuid,
      summary: `mount the store at boot with ${STORE.mountUnit}, ordered before docker.service`,
      steps: mountUnitSteps(uuid ?? NEW_UUID, store.mountUnit, context.systemdRunning),
    },
  ];
}

function conflict(message: string): AgentError {
  return new AgentError(`${message}; remove one of them`);
}

function switchStore(
  store: StoreFacts,
  dockerUnits: readonly string[],
  context: StoragePlanContext,
): StorageAction | null {
  if (store.mount !== null && !store.mountedFromBacking) {
    throw conflict(
      `${STORE.mountPoint} is already a mount of ${store.mount.source} ` +
        `(${store.mount.fstype}), not of ${store.backing.name}`,
    );
  }
  const mount = !store.mountedFromBacking;
  const text = daemonJsonWithBtrfs(store.daemonJson);
  if (!mount && text === null) return null;
  const migrate = mount && store.oldStoreHasData;
  if (migrate && store.retiredLeftover) {
    throw conflict(
      `${STORE.retired} is left from an interrupted switch and ${STORE.mountPoint} holds data too: check them`,
    );
  }
  if (store.unmanagedDocker)
    throw new AgentError(`dockerd runs outside systemd (${store.unmanagedDocker}); stop it, then apply again`);
  const { kind, source } = store.backing;
  const daemonJson = text === null ? null : writeStep(STORE.daemonJson, text, { before: store.daemonJson });
  return switchAction({ backing: { kind, source }, mount, migrate, dockerUnits, daemonJson }, context);
}

type SwitchChange = Omit<SwitchAction, 'kind' | 'summary' | 'steps'>;

function switchAction(change: SwitchChange, context: StoragePlanContext): SwitchAction {
  const mounting = change.migrate
    ? `move ${STORE.mountPoint} onto the Btrfs store and mount it there`
    : `mount the Btrfs store on ${STORE.mountPoint}`;
  const daemonJson = change.daemonJson && `set "storage-driver": "btrfs" in ${STORE.daemonJson}`;
  const summary = [change.mount && mounting, daemonJson].filter(Boolean).join('; ');
  return { kind: 'switch', ...change, summary, steps: switchSteps(change, context) };
}

/** In the order switchStore (apply.ts) takes them; Docker is started again also when a step fails. */
function switchSteps(change: SwitchChange, context: StoragePlanContext): Step[] {
  const stop = dockerUnitsCommand('stop', change.dockerUnits);
  const start = dockerUnitsCommand('start', change.dockerUnits);
  const mount: Step[] = change.mount ? [{ run: mountCommand(change.backing, context.onDisk(STORE.mountPoint)) }] : [];
  return [
    ...(stop ? [{ run: stop }, { note: 'started again at the end, also when a step fails' }] : []),
    ...(change.migrate ? migrationSteps(change.backing, context.onDisk) : []),
    ...mount,
    ...(change.migrate ? [{ remove: STORE.retired, what: 'tree' } as const] : []),
    ...(change.daemonJson ? [change.daemonJson] : []),
    ...(start ? [{ run: start }] : []),
  ];
}

function removeRetired(store: StoreFacts): StorageAction {
  return {
    kind: 'remove-retired',
    summary:
      `remove ${STORE.retired}, the old store left by an interrupted switch (its data is on ` +
      `${store.backing.name})`,
    steps: [{ remove: STORE.retired, what: 'tree' }],
  };
}
