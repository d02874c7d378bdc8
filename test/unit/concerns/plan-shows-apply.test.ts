/**
 * What `plan` prints is what apply does, for every action of every concern's plan: each concern is planned and
 * applied on a fake Host whose tools answer as the real ones do, and for each action the commands apply ran (read-only
 * probes aside) are exactly the commands its steps carry, in order, with their environment and input; the files it
 * wrote hold exactly the content its steps carry (where a rename step puts it); what its steps remove is gone, what
 * they make is there; a file they edit is what their changes make of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dockerConcern } from '../../../src/concerns/docker/index.ts';
import { ecsConcern } from '../../../src/concerns/ecs/index.ts';
import { AMAZON_ECS_FINGERPRINT } from '../../../src/concerns/ecs/gpg.ts';
import { ecsConfigConcern } from '../../../src/concerns/ecs-config/index.ts';
import { gpuConcern } from '../../../src/concerns/gpu/index.ts';
import { usersConcern } from '../../../src/concerns/users/index.ts';
import { KEYS_FILE_HEADER, SSHD_DROP_IN_TEXT, SUDOERS_TEXT } from '../../../src/concerns/users/settings.ts';
import { createStorageConcern } from '../../../src/concerns/storage/index.ts';
import { STORE } from '../../../src/concerns/storage/settings.ts';
import { updateToolsConcern } from '../../../src/concerns/updates/tools.ts';
import { createVolumesConcern } from '../../../src/concerns/volumes/index.ts';
import type { Command } from '../../../src/core/command.ts';
import type { Action, ConcernContext } from '../../../src/core/concern.ts';
import { encodeLossless } from '../../../src/core/config/text.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import type { AnyConcern } from '../../../src/core/runner.ts';
import { renderSteps, type Step } from '../../../src/core/step.ts';
import type { ExecOptions } from '../../../src/host/host.ts';
import { type FakeHost, textResponse } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';
import { DEVICE_MODE, FakeMachine, FILE_MODE, storageContext } from '../storage/fake-machine.ts';
import { withAccountTools } from '../users/account-tools.ts';
import { ed25519Key } from '../users/keys.ts';
import { concernContext } from '../../support/concern-context.ts';

interface Scenario {
  readonly name: string;
  readonly concern: AnyConcern;
  /** A context on a FakeHost whose tools keep the state the concern reads back. */
  readonly context: () => Promise<ConcernContext>;
  /** The action kinds the plan holds, so that no scenario passes by planning nothing. */
  readonly kinds: readonly string[];
}

/** A command as the Host was asked to run it. */
interface Ran {
  readonly line: string;
  readonly input?: string;
  readonly target?: string;
}

/** Tools and sub-commands that only read: apply may ask them (a UUID, a manifest to verify a copy) unprinted. */
function readsOnly(file: string, args: readonly string[]): boolean {
  if (['blkid', 'findmnt', 'lsblk', 'find', 'rpm', 'apt-cache', 'docker', 'gpg'].includes(file)) return true;
  return file === 'systemctl' && ['is-active', 'is-enabled'].includes(args[0] as string);
}

function ran(file: string, args: readonly string[], options: ExecOptions): Ran {
  const env = Object.entries(options.env ?? {})
    .map(([key, value]) => `${key}=${value} `)
    .join('');
  return {
    line: `${env}${[file, ...args].join(' ')}`,
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.target === 'local' ? { target: 'local' } : {}),
  };
}

function printed(command: Command): Ran {
  return ran(command.file, command.args, command);
}

function commandsOf(steps: readonly Step[]): Ran[] {
  return steps.flatMap((step) => ('run' in step ? [step.run] : 'install' in step ? step.install : [])).map(printed);
}

/** `<what it is>`: a value only an earlier step can tell. */
const PLACEHOLDER = /<[^<>\n]+>/;

/** The printed text as a pattern, each placeholder standing for any value. */
function shownAsPattern(text: string): RegExp {
  const parts = text.split(new RegExp(PLACEHOLDER, 'g')).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^\\n]+')}$`);
}

/** Where a file written by the step at `index` is once the steps after it have renamed it. */
function finalPath(steps: readonly Step[], index: number, path: string): string {
  return steps.slice(index + 1).reduce((at, step) => ('rename' in step && step.rename === at ? step.to : at), path);
}

/** Each edited file as the action's edits make it from its text before the action. */
function editsOf(host: FakeHost, steps: readonly Step[]): Map<string, string> {
  const edited = new Map<string, string>();
  for (const step of steps) {
    if ('edit' in step) edited.set(step.edit, step.change(edited.get(step.edit) ?? host.text(step.edit) ?? ''));
  }
  return edited;
}

async function checkAction(scenario: Scenario, context: ConcernContext, action: Action, log: Ran[]): Promise<void> {
  const host = context.host as FakeHost;
  const { steps } = action;
  assert.ok(steps.length > 0, `${action.summary}: an action carries its steps`);
  const writes = host.writes.length;
  const edited = editsOf(host, steps);
  log.length = 0;
  await scenario.concern.apply(action, context);
  const where = `${scenario.name}: ${action.summary}\n${renderSteps(steps).join('\n')}`;
  assert.deepEqual(log, commandsOf(steps), `${where}\nran exactly the commands shown`);
  const shownFiles = new Set<string>();
  for (const [index, step] of steps.entries()) {
    if ('write' in step) {
      const path = finalPath(steps, index, step.write);
      shownFiles.add(path);
      const file = host.files.get(path);
      if (PLACEHOLDER.test(step.content)) {
        const written = new TextDecoder().decode(file?.data);
        assert.match(written, shownAsPattern(step.content), `${where}\nwrote ${step.write}`);
      } else {
        assert.deepEqual(file?.data, encodeLossless(step.content), `${where}\nwrote ${step.write} as shown`);
      }
      if (step.mode !== undefined) assert.equal(file?.mode, step.mode, `${where}\nmode of ${step.write}`);
      if (step.noFollow) {
        const { uid, gid } = step.noFollow;
        assert.deepEqual([file?.uid, file?.gid], [uid, gid], `${where}\nowner of ${step.write}`);
      }
    } else if ('edit' in step) {
      shownFiles.add(step.edit);
      const made = edited.get(step.edit) ?? '';
      assert.match(host.text(step.edit) ?? '', shownAsPattern(made), `${where}\n${step.edit} as its edits make it`);
      const lines = (host.text(step.edit) ?? '').split('\n');
      // Lines removed (-) and added (+); a file of records says what changes in words, checked as a whole above.
      for (const change of step.changes.filter((line) => /^[-+] /.test(line))) {
        const added = change.startsWith('+ ');
        const has = lines.some((line) => shownAsPattern(change.slice(2)).test(line));
        assert.equal(has, added, `${where}\n${step.edit} ${added ? 'has' : 'lost'} ${change}`);
      }
    } else if ('remove' in step) {
      const entries = step.what === 'entries' ? await host.readdir(step.remove) : [];
      const gone = step.what === 'entries' ? entries.length === 0 : (await host.lstat(step.remove)) === null;
      assert.ok(gone, `${where}\nremoved ${step.remove}`);
    } else if ('mkdir' in step) {
      const made = await host.lstat(step.mkdir);
      assert.deepEqual([made?.kind, made?.mode], ['directory', step.mode], `${where}\nmade ${step.mkdir}`);
    }
  }
  const unshown = host.writes.slice(writes).filter((path) => host.files.has(path) && !shownFiles.has(path));
  assert.deepEqual(unshown, [], `${where}\nwrote no file it does not show`);
}

async function contextOf(
  host: FakeHost,
  env: Record<string, string> = {},
  resetAgentState = false,
): Promise<ConcernContext> {
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return concernContext(host, config, resetAgentState);
}

const ok = { exitCode: 0, stdout: '', stderr: '' };

/** A host of the fixture whose package, unit and signature tools all succeed; nothing is installed yet. */
function plainHost(fixture: string, options: { readonly root?: string; readonly systemd?: boolean } = {}): FakeHost {
  const host = fakeHostFor(fixture, options.root);
  if (options.systemd) host.directories.add('/run/systemd/system');
  host.putFile('/bin/sh', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...new Array(14).fill(0), 0x3e, 0]));
  return host.onExec(() => ok);
}

/** ecs-init's agent left state of another cluster behind. */
function withStaleAgentState(host: FakeHost): FakeHost {
  const arn = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/old/0123456789abcdef0123456789abcdef';
  const state = { Data: { Cluster: 'old', ContainerInstanceArn: arn } };
  host.putFile('/var/lib/ecs/data/ecs_agent_data.json', JSON.stringify(state));
  host.putFile('/var/lib/ecs/data/agent.db', 'bolt');
  return host;
}

/** A bucket with the signed .deb, and gpg that finds the Amazon ECS key's valid signature on it. */
function withSignedDeb(host: FakeHost): FakeHost {
  host.onHttp((request) => (request.url.includes('/amazon-ecs-init-') ? textResponse(200, 'package') : undefined));
  const fingerprint = AMAZON_ECS_FINGERPRINT;
  host.execHandlers.unshift((file, args) => {
    if (file !== 'gpg') return undefined;
    if (args.includes('--fingerprint')) return { ...ok, stdout: `fpr:::::::::${fingerprint}:\n` };
    const valid = `[GNUPG:] VALIDSIG ${fingerprint} 2026-01-01 0 4 0 1 10 00 ${fingerprint}\n`;
    return { ...ok, stdout: args.includes('--verify') ? valid : '' };
  });
  return host;
}

/** An AL2023 host with an NVIDIA GPU, systemd and a Docker without the nvidia runtime; dnf offers the toolkit. */
function gpuHost(): FakeHost {
  const host = fakeHostFor('amzn-2023');
  host.putFile('/sys/bus/pci/devices/0000:00:1e.0/vendor', '0x10de\n');
  host.putFile('/sys/bus/pci/devices/0000:00:1e.0/class', '0x030200\n');
  host.putFile('/proc/driver/nvidia/version', 'NVRM version: 550.90.07\n');
  host.directories.add('/run/systemd/system');
  let toolkit: string | null = null;
  host.execHandlers.unshift((file, args) => {
    if (file === 'rpm' && args.at(-1) === 'nvidia-container-toolkit' && toolkit) return { ...ok, stdout: toolkit };
    if (file === 'dnf' && args[0] === 'repoquery') return { ...ok, stdout: '1.17.8-1\n' };
    if (file === 'dnf' && args[0] === 'install') toolkit = '1.17.8-1';
    else if (file === 'nvidia-ctk') host.putFile('/etc/docker/daemon.json', '{"runtimes":{"nvidia":{}}}\n');
    else if (file === 'docker') return { ...ok, stdout: '{"runc":{"path":"runc"}}\n' };
    else if (file !== 'systemctl') return undefined;
    return ok;
  });
  return host;
}

/** File mode on a host whose Docker (under systemd) has images in /var/lib/docker and a daemon.json of its own. */
function storageWithDocker(): FakeMachine {
  const machine = new FakeMachine();
  machine.host.directories.add('/run/systemd/system');
  machine.activeUnits.add('docker.socket').add('docker.service');
  machine.host.putFile('/etc/fstab', '/dev/vda1 / ext4 defaults 0 1\n');
  machine.host.putFile('/var/lib/docker/image/overlay2/repositories.json', '{}');
  machine.host.putFile('/etc/docker/daemon.json', '{ "log-driver": "journald" }\n');
  return machine;
}

/** Device mode with an ext4 device to erase, and an old store left by an interrupted switch. */
function storageDevice(): FakeMachine {
  const machine = new FakeMachine().installBtrfsProgs().addDisk('/dev/nvme1n1', { TYPE: 'ext4' });
  machine.host.directories.add('/run/systemd/system');
  machine.host.putFile(`${STORE.retired}/image`, 'old');
  return machine;
}

/** Device mode on the agent's own Btrfs, neither mounted nor in a mount unit yet. */
function storageOwnDevice(): FakeMachine {
  const own = { TYPE: 'btrfs', LABEL: STORE.label, UUID: '99999999-8888-7777-6666-555555555555' };
  return new FakeMachine().installBtrfsProgs().addDisk('/dev/nvme1n1', own);
}

/** A host with two 1 GiB NVMe volumes: an empty one, and one holding ext4 that fstab names by device. */
function volumesMachine(root = '/'): FakeMachine {
  const machine = new FakeMachine(root)
    .addDisk('/dev/nvme1n1', undefined, 'vol0123456789abcdef0')
    .addDisk('/dev/nvme2n1', { TYPE: 'ext4', UUID: '12345678-1234-1234-1234-123456789abc' });
  machine.host.putFile('/etc/fstab', '/dev/vda1 / ext4 defaults 0 1\n/dev/nvme2n1 /srv/logs ext4 defaults 0 2\n');
  machine.host.directories.add('/usr/sbin');
  machine.host.onExec((file, args) => {
    if (file !== 'mkfs.xfs') return undefined;
    machine.signatures.set(args.at(-1) as string, { TYPE: 'xfs', UUID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' });
    return ok;
  });
  return machine;
}

const VOLUMES = 'VOLUMES=vol-0123456789abcdef0:xfs:/data:noatime;/dev/nvme2n1:ext4:/srv/logs\n';

const AUTH = {
  ECS_ENGINE_AUTH_TYPE: 'dockercfg',
  ECS_ENGINE_AUTH_DATA: '{"registry.example.test":{"auth":"dXNlcjpodW50ZXIy"}}',
};

const liveStorage = createStorageConcern({ live: () => true });

const KEYS = [ed25519Key('alice@laptop'), ed25519Key('alice@desk'), ed25519Key('bob@laptop')];

/**
 * A Debian host with sshd, a skel with a nested file and the account tools (test/unit/users/account-tools.ts);
 * /users.json lists `users`. logind ends a user's processes when asked (so no SIGKILL round is needed).
 */
interface Accounts {
  readonly passwd?: string;
  readonly shadow?: string;
  readonly group?: string;
}

function usersHost(users: Record<string, unknown>, accounts: Accounts = {}): FakeHost {
  const host = withAccountTools(plainHost('debian-12', { systemd: true }));
  const lines = (...rows: string[]) =>
    rows
      .filter(Boolean)
      .map((row) => `${row}\n`)
      .join('');
  const group = accounts.group ?? '';
  host.putFile('/etc/passwd', lines('root:x:0:0:root:/root:/bin/bash', accounts.passwd ?? ''));
  host.putFile('/etc/shadow', lines('root:*:20000:0:99999:7:::', accounts.shadow ?? ''), 0o640);
  host.putFile('/etc/group', lines('root:x:0:', 'users:x:100:', group));
  const gshadow = group
    .split('\n')
    .filter(Boolean)
    .map((row) => row.replace(/^([^:]*):x:\d+:/, '$1:!::'));
  host.putFile('/etc/gshadow', lines('root:*::', 'users:*::', ...gshadow), 0o640);
  host.putFile('/etc/login.defs', 'UID_MIN 1000\nUID_MAX 60000\nUMASK 022\n');
  host.putFile('/etc/skel/.bashrc', '# ~/.bashrc\n');
  host.putFile('/etc/skel/.profile', '# ~/.profile\n');
  host.putFile('/etc/skel/.config/app/settings', 'theme=dark\n', 0o600);
  host.directoryOwners.set('/etc/skel/.config/app', { mode: 0o700, uid: 0, gid: 0 });
  host.putFile('/usr/sbin/sshd', '');
  host.putFile('/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n');
  host.putFile('/proc/self/status', 'Name:\tnode\nState:\tR (running)\nUid:\t0\t0\t0\t0\nNSpid:\t4242\n');
  host.directories.add('/home');
  host.putFile('/users.json', JSON.stringify(users));
  host.execHandlers.unshift((file, args) => {
    if (file !== 'loginctl') return undefined;
    const uid = new RegExp(`^${args.at(-1)}:x:(\\d+):`, 'm').exec(host.text('/etc/passwd') ?? '')?.[1];
    for (const path of [...host.files.keys()].filter((p) => /^\/proc\/\d+\/status$/.test(p))) {
      if (host.text(path)?.includes(`Uid:\t${uid}\t`)) void host.rm(path);
    }
    return ok;
  });
  return host;
}

/** A user's home as the agent leaves it: keys, skel, the user's own. */
function withHome(host: FakeHost, name: string, uid: number, keys: readonly string[]): FakeHost {
  const text = `${KEYS_FILE_HEADER}${keys.map((key) => `${key}\n`).join('')}`;
  host.putFile(`/home/${name}/.ssh/authorized_keys`, text, 0o600, uid, uid);
  host.directoryOwners.set(`/home/${name}`, { mode: 0o755, uid, gid: uid });
  host.directoryOwners.set(`/home/${name}/.ssh`, { mode: 0o700, uid, gid: uid });
  return host;
}

const USERS_ENV = { USERS_SOURCE: 'file:/users.json', USERS_ALLOWED_GROUPS: 'users' };

/** Alice (sudo, groups, an expiry) and bob, on a host where nothing of the agent's is in place yet. */
function newUsers(): Promise<ConcernContext> {
  const users = {
    alice: { sshPublicKeys: KEYS.slice(0, 2), sudo: true, groups: ['users'], expires: '2027-06-30T00:00:00Z' },
    bob: { sshPublicKeys: KEYS.slice(2) },
  };
  return contextOf(usersHost(users), USERS_ENV);
}

/**
 * The agent's users a while later: alice's shell, password and keys drifted, dave expired (keys removed), carol
 * gone from the source with a process running (locked, keys removed, sessions ended, deleted).
 */
function existingUsers(): Promise<ConcernContext> {
  const users = {
    alice: { sshPublicKeys: KEYS.slice(0, 1), sudo: true },
    dave: { sshPublicKeys: KEYS.slice(2), expires: '2026-01-01T00:00:00Z' },
  };
  const host = usersHost(users, {
    passwd: [
      'alice:x:1000:1000:managed by ecs-host-agent:/home/alice:/bin/sh',
      'carol:x:1002:1002:managed by ecs-host-agent:/home/carol:/bin/bash',
      'dave:x:1003:1003:managed by ecs-host-agent:/home/dave:/bin/bash',
    ].join('\n'),
    shadow: 'alice:$6$salt$hash:20000:0:99999:7:::\ncarol:*:20000:0:99999:7:::\ndave:*:20000:0:99999:7::20454:',
    group: [
      'alice:x:1000:\ncarol:x:1002:\ndave:x:1003:',
      'ecs-host-agent-users:x:999:alice,carol,dave\necs-host-agent-sudo:x:998:alice,carol',
    ].join('\n'),
  });
  withHome(host, 'alice', 1000, KEYS.slice(1, 2));
  withHome(host, 'carol', 1002, KEYS.slice(2));
  withHome(host, 'dave', 1003, KEYS.slice(2));
  host.putFile('/etc/ssh/sshd_config.d/00-ecs-host-agent.conf', SSHD_DROP_IN_TEXT);
  host.putFile('/etc/sudoers.d/ecs-host-agent', SUDOERS_TEXT, 0o440);
  const state = { managedUsers: ['alice', 'carol', 'dave'] };
  host.putFile('/var/lib/ecs-host-agent/users.json', JSON.stringify(state), 0o600);
  host.putFile('/proc/300/status', 'Name:\tbash\nState:\tS (sleeping)\nUid:\t1002\t1002\t1002\t1002\nNSpid:\t300\n');
  return contextOf(host, { ...USERS_ENV, USERS_REMOVE: 'delete' });
}

/**
 * Creations a kill interrupted: erin's account without its shadow entry (made again), frank's account without a
 * home (made and given to him), gail's home without an account (root's, .bashrc emptied: given to her, refilled).
 */
function interruptedCreation(): Promise<ConcernContext> {
  const users = Object.fromEntries(['erin', 'frank', 'gail'].map((name, i) => [name, { sshPublicKeys: [KEYS[i]] }]));
  const host = usersHost(users, {
    passwd: [
      'erin:x:1004:1004:managed by ecs-host-agent:/home/erin:/bin/bash',
      'frank:x:1005:1005:managed by ecs-host-agent:/home/frank:/bin/bash',
    ].join('\n'),
    shadow: 'frank:*:20000:0:99999:7:::',
    group: 'erin:x:1004:\nfrank:x:1005:\necs-host-agent-users:x:999:\necs-host-agent-sudo:x:998:',
  });
  host.putFile('/home/gail/.bashrc', '');
  host.putFile('/home/gail/.profile', '# ~/.profile\n');
  host.putFile('/etc/ssh/sshd_config.d/00-ecs-host-agent.conf', SSHD_DROP_IN_TEXT);
  const state = { managedUsers: ['erin', 'frank', 'gail'], creating: ['erin', 'frank', 'gail'] };
  host.putFile('/var/lib/ecs-host-agent/users.json', JSON.stringify(state), 0o600);
  return contextOf(host, USERS_ENV);
}

/** Alice, managed by the agent and as the source has her. */
function settledAlice(): Promise<ConcernContext> {
  const host = usersHost(
    { alice: { sshPublicKeys: KEYS.slice(0, 1) } },
    {
      passwd: 'alice:x:1000:1000:managed by ecs-host-agent:/home/alice:/bin/bash',
      shadow: 'alice:*:20000:0:99999:7:::',
      group: 'alice:x:1000:\necs-host-agent-users:x:999:alice\necs-host-agent-sudo:x:998:',
    },
  );
  withHome(host, 'alice', 1000, KEYS.slice(0, 1));
  host.putFile('/etc/ssh/sshd_config.d/00-ecs-host-agent.conf', SSHD_DROP_IN_TEXT);
  host.putFile('/var/lib/ecs-host-agent/users.json', JSON.stringify({ managedUsers: ['alice'] }), 0o600);
  return contextOf(host, USERS_ENV);
}

/** The users concern, its facts holding an ssm: source's full read (the SDK's calls do not go through the Host). */
const usersWithSourceRead: AnyConcern = {
  ...usersConcern,
  gather: async (context) => {
    const record = {
      source: 'ssm:/ecs/users',
      generation: { version: 8, value: '2026-11-22T11:00:00Z' },
      readAt: '2026-11-22T12:00:00.000Z',
      parameters: { alice: JSON.stringify({ sshPublicKeys: KEYS.slice(0, 1) }) },
    };
    return { ...(await usersConcern.gather(context)), sourceCache: record };
  },
};

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'storage, file mode: Docker stopped, its store moved onto the new Btrfs, daemon.json set, Docker started',
    concern: liveStorage,
    context: () => storageContext(storageWithDocker(), FILE_MODE, true),
    kinds: ['install-tools', 'create-file', 'format', 'write-fstab', 'switch'],
  },
  {
    name: 'storage, device mode: an ext4 device erased, a mount unit by the new UUID, an old store removed',
    concern: liveStorage,
    context: () => storageContext(storageDevice(), `${DEVICE_MODE}STORAGE_FORCE_FORMAT=yes\n`, true),
    kinds: ['format', 'write-mount-unit', 'switch', 'remove-retired'],
  },
  {
    name: "storage, device mode: the agent's own Btrfs mounted by its UUID",
    concern: liveStorage,
    context: () => storageContext(storageOwnDevice(), DEVICE_MODE),
    kinds: ['write-mount-unit', 'switch'],
  },
  {
    name: 'storage in an image root: only the Btrfs tools',
    concern: createStorageConcern(),
    context: () => storageContext(volumesMachine('/image'), FILE_MODE),
    kinds: ['install-tools'],
  },
  {
    name: 'volumes: tools installed, an empty volume formatted, both persisted by UUID and mounted',
    concern: createVolumesConcern({ live: () => true }),
    context: () => storageContext(volumesMachine(), VOLUMES),
    kinds: ['install-tools', 'format', 'persist', 'mount', 'persist', 'mount'],
  },
  {
    name: 'volumes in an image root: only the mkfs tools',
    concern: createVolumesConcern(),
    context: () => storageContext(volumesMachine('/image'), VOLUMES),
    kinds: ['install-tools'],
  },
  {
    name: 'ecs-config over a hand-written file, registry credentials added',
    concern: ecsConfigConcern,
    context: async () => {
      const host = plainHost('debian-12');
      host.putFile('/etc/ecs/ecs.config', '# by hand\nECS_CLUSTER=old\nECS_LOGLEVEL=debug\n');
      return contextOf(host, { ECS_CLUSTER: 'prod', ...AUTH });
    },
    kinds: ['write', 'record'],
  },
  {
    name: 'updates tools on Debian 12: debconf answered, unattended-upgrades installed',
    concern: updateToolsConcern,
    context: () => contextOf(plainHost('debian-12')),
    kinds: ['debconf', 'install'],
  },
  {
    name: 'updates tools on Amazon Linux 2023: dnf-plugins-core',
    concern: updateToolsConcern,
    context: () => contextOf(plainHost('amzn-2023')),
    kinds: ['install'],
  },
  {
    name: 'docker on Debian 12, systemd not PID 1',
    concern: dockerConcern,
    context: () => contextOf(plainHost('debian-12')),
    kinds: ['install', 'start'],
  },
  {
    name: 'docker on Amazon Linux 2023 with systemd',
    concern: dockerConcern,
    context: () => contextOf(plainHost('amzn-2023', { systemd: true })),
    kinds: ['install', 'start'],
  },
  {
    name: 'docker in an Amazon Linux 2 image root (amazon-linux-extras)',
    concern: dockerConcern,
    context: () => contextOf(plainHost('amzn-2', { root: '/img' })),
    kinds: ['install', 'start'],
  },
  {
    name: 'ecs on SLES 15 with systemd, agent state of another cluster cleared on request',
    concern: ecsConcern,
    context: () => contextOf(withStaleAgentState(plainHost('sles-15.5', { systemd: true })), {}, true),
    kinds: ['reset-state', 'install', 'start'],
  },
  {
    name: 'ecs in an Amazon Linux 2 image root (amazon-linux-extras), baked agent state always cleared',
    concern: ecsConcern,
    context: () => contextOf(withStaleAgentState(plainHost('amzn-2', { root: '/img' }))),
    kinds: ['reset-state', 'install', 'start'],
  },
  {
    name: 'ecs on Ubuntu 24.04: the signed .deb',
    concern: ecsConcern,
    context: () => contextOf(withSignedDeb(plainHost('ubuntu-24.04')), { AWS_REGION: 'eu-west-1' }),
    kinds: ['install', 'start'],
  },
  {
    name: "users from scratch: the agent's groups, sshd drop-in and sudoers (each checked), accounts, homes from skel",
    concern: usersConcern,
    context: newUsers,
    kinds: [
      'create-group',
      'create-group',
      'write-sshd-config',
      'write-sudoers',
      'record-state',
      'create-accounts',
      'modify-user',
      'set-members',
      'set-members',
      'set-members',
      'set-up-home',
      'set-up-home',
      'flush-homes',
      'record-state',
    ],
  },
  {
    name: 'users that drifted, expired or left the source (USERS_REMOVE=delete)',
    concern: usersConcern,
    context: existingUsers,
    kinds: [
      'lock-user',
      'remove-keys',
      'end-sessions',
      'delete-user',
      'modify-user',
      'set-passwords',
      'set-members',
      'write-keys',
    ],
  },
  {
    name: 'users whose creation was interrupted: an incomplete account made again, homes finished',
    concern: usersConcern,
    context: interruptedCreation,
    kinds: [
      'set-members',
      'delete-user',
      'create-accounts',
      'set-members',
      'set-up-home',
      'set-up-home',
      'set-up-home',
      'flush-homes',
      'record-state',
    ],
  },
  {
    name: 'users from an ssm: source read in full: the read kept for the next syncs',
    concern: usersWithSourceRead,
    context: settledAlice,
    kinds: ['record-source'],
  },
  {
    name: 'gpu on Amazon Linux 2023 with systemd',
    concern: gpuConcern,
    context: () => contextOf(gpuHost()),
    kinds: ['install', 'configure-runtime', 'restart-docker'],
  },
];

for (const scenario of SCENARIOS) {
  test(`plan shows what apply does: ${scenario.name}`, async () => {
    const context = await scenario.context();
    const log: Ran[] = [];
    (context.host as FakeHost).execHandlers.unshift((file, args, options) => {
      if (!readsOnly(file, args)) log.push(ran(file, args, options));
      return undefined;
    });
    const actions: Action[] = scenario.concern.plan(await scenario.concern.gather(context), context);
    assert.deepEqual(
      actions.map((action) => (action as { kind?: string }).kind),
      scenario.kinds,
    );
    for (const action of actions) await checkAction(scenario, context, action, log);
  });
}
