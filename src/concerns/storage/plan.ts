import type { Action } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { daemonJsonWithBtrfs } from './daemon-json.ts';
import type { StorageFacts, StoreFacts } from './facts.ts';
import { mountCommand } from './mount.ts';
import { currentFstabLine, fstabLine, isOwnMountUnit, mountUnit, PersistConflictError, withFstabLine } from './persist.ts';
import { describeSignature } from '../block/probe.ts';
import { isOwnFilesystem, STORE, type StorageSettings } from './settings.ts';

export type StorageAction = Action &
  (
    | { readonly kind: 'install-tools'; readonly packages: readonly string[] }
    | { readonly kind: 'create-file'; readonly path: string; readonly size: number }
    | { readonly kind: 'format'; readonly source: string; readonly wipe: boolean }
    | { readonly kind: 'write-fstab'; readonly text: string }
    | { readonly kind: 'write-mount-unit'; readonly source: string }
    | { readonly kind: 'switch'; readonly mount: boolean; readonly migrate: boolean; readonly daemonJson: string | null }
    | { readonly kind: 'remove-retired' }
  );

/** The backing holds something the agent did not make, and STORAGE_FORCE_FORMAT is off. */
export class FormatRefusedError extends AgentError {}

/** Pure: the steps from the facts to a mounted Btrfs store Docker uses. */
export function planStorage(facts: StorageFacts, describeInstall: (packages: readonly string[]) => string[]): StorageAction[] {
  const actions: StorageAction[] = [];
  if (!facts.toolsInstalled) actions.push(installTools(facts, describeInstall));
  const { settings, store } = facts;
  if (store === null) return actions;
  const format = !isOwnFilesystem(store.backing.signature);
  if (settings.mode === 'btrfs-file' && !store.backing.exists) actions.push(createFile(settings));
  if (format) actions.push(formatBacking(settings, store));
  actions.push(...persist(settings, store, format));
  const change = switchStore(store);
  if (change) actions.push(change);
  if (store.retiredLeftover) actions.push(removeRetired(store));
  return actions;
}

function installTools(facts: StorageFacts, describeInstall: (packages: readonly string[]) => string[]): StorageAction {
  const firstBoot = facts.live ? [] : ['image root: the store itself (file or device, mkfs, mount, daemon.json) is made by the agent on the booted instance'];
  return {
    kind: 'install-tools',
    packages: [facts.btrfsPackage],
    summary: `install ${facts.btrfsPackage} (mkfs.btrfs, btrfs)`,
    details: [...describeInstall([facts.btrfsPackage]), ...firstBoot],
  };
}

function createFile(settings: StorageSettings): StorageAction {
  return {
    kind: 'create-file',
    path: settings.file,
    size: settings.size,
    summary: `create the sparse file ${settings.file} (${settings.size} bytes, thin: allocated as Docker writes)`,
    details: [`truncate --size ${settings.size} -- ${settings.file}  (mode 0600)`],
  };
}

function formatBacking(settings: StorageSettings, store: StoreFacts): StorageAction {
  const { backing } = store;
  const found = backing.signature && describeSignature(backing.signature);
  if (found && !settings.forceFormat) {
    throw new FormatRefusedError(`refusing to format ${backing.name}: it holds ${found}; set STORAGE_FORCE_FORMAT=yes to erase it`);
  }
  return {
    kind: 'format',
    source: backing.source,
    wipe: found !== null,
    summary: found ? `ERASE ${found} on ${backing.name} and format it as Btrfs (STORAGE_FORCE_FORMAT=yes)` : `format ${backing.name} as Btrfs`,
    details: [...(found ? [`wipefs --all -- ${backing.source}`] : []), `mkfs.btrfs --label ${STORE.label} -- ${backing.source}`],
  };
}

function persist(settings: StorageSettings, store: StoreFacts, formatting: boolean): StorageAction[] {
  if (settings.mode === 'btrfs-file') {
    if (store.mountUnit !== null) throw conflict(`${STORE.mountUnit} exists, but STORAGE_MODE=btrfs-file mounts the store from ${STORE.fstab}`);
    const text = withFstabLine(store.fstab, settings.file);
    if (text === store.fstab) return [];
    return [{ kind: 'write-fstab', text, summary: `mount the store at boot from ${STORE.fstab}`, details: [fstabLine(settings.file)] }];
  }
  const line = currentFstabLine(store.fstab);
  if (line !== null) throw conflict(`${STORE.fstab} mounts ${STORE.mountPoint} (${line}), but STORAGE_MODE=btrfs-device mounts it with ${STORE.mountUnit}`);
  if (store.mountUnit !== null && !isOwnMountUnit(store.mountUnit)) {
    throw new PersistConflictError(`${STORE.mountUnit} was not written by the agent; remove it to let the agent manage the store`);
  }
  const uuid = formatting ? null : store.backing.signature?.uuid ?? null;
  if (uuid !== null && store.mountUnit === mountUnit(uuid) && store.mountUnitEnabled) return [];
  return [
    {
      kind: 'write-mount-unit',
      source: store.backing.source,
      summary: `mount the store at boot with ${STORE.mountUnit}, ordered before docker.service`,
      details: [`What=/dev/disk/by-uuid/${uuid ?? '<UUID of the new filesystem>'}`, `systemctl enable ${STORE.mountUnitName}`],
    },
  ];
}

function conflict(message: string): PersistConflictError {
  return new PersistConflictError(`${message}; remove one of them`);
}

function switchStore(store: StoreFacts): StorageAction | null {
  if (store.mount !== null && !store.mountedFromBacking) {
    throw conflict(`${STORE.mountPoint} is already a mount of ${store.mount.source} (${store.mount.fstype}), not of ${store.backing.name}`);
  }
  const mount = !store.mountedFromBacking;
  const daemonJson = daemonJsonWithBtrfs(store.daemonJson);
  if (!mount && daemonJson === null) return null;
  const migrate = mount && store.oldStoreHasData;
  if (migrate && store.retiredLeftover) {
    throw conflict(`${STORE.retired} is left from an interrupted switch and ${STORE.mountPoint} holds data too: check them`);
  }
  if (store.unmanagedDocker) throw new AgentError(`dockerd runs outside systemd (${store.unmanagedDocker}); stop it, then apply again`);
  return {
    kind: 'switch',
    mount,
    migrate,
    daemonJson,
    summary: [mount && (migrate ? `move ${STORE.mountPoint} onto the Btrfs store and mount it there` : `mount the Btrfs store on ${STORE.mountPoint}`), daemonJson && `set "storage-driver": "btrfs" in ${STORE.daemonJson}`]
      .filter(Boolean)
      .join('; '),
    details: [
      'stop docker.socket and docker.service if running (started again afterwards, also on failure)',
      ...(migrate ? migrationSteps() : []),
      ...(mount ? [mountCommand(store.backing, STORE.mountPoint).join(' ')] : []),
      ...(daemonJson ? daemonJson.trimEnd().split('\n') : []),
    ],
  };
}

function migrationSteps(): string[] {
  return [
    `mount the new filesystem on ${STORE.staging}; cp -a -- ${STORE.mountPoint}/. ${STORE.staging}/`,
    'verify every name, type, size, mode and owner matches; on any failure the copy is removed and the old store stays in use',
    `move ${STORE.mountPoint} aside to ${STORE.retired}, mount the store, then remove the old copy`,
  ];
}

function removeRetired(store: StoreFacts): StorageAction {
  return {
    kind: 'remove-retired',
    summary: `remove ${STORE.retired}, the old store left by an interrupted switch (its data is on ${store.backing.name})`,
    details: [`rm -r -- ${STORE.retired}`],
  };
}
