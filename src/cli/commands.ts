import type { ParseArgsOptionsConfig } from 'node:util';

import type { Command, ConfigFlag } from './command.ts';
import { version } from './version.ts';

/**
 * Every command as --help, argument parsing and config see it; each loads its
 * implementation (src/cli/<name>.ts) only when it runs, except `version`, which
 * needs nothing. This file imports nothing that runs code: the AWS SDK and
 * node:child_process are loaded by the commands that use them, not by `--version`.
 */

/** Flags shared by plan and apply, so `apply --dry-run` and `plan` always mean the same. */
const CONVERGE_OPTIONS = {
  'allow-ecs-optimized': { type: 'boolean' },
  'reset-agent-state': { type: 'boolean' },
  'ecs-init-version': { type: 'string' },
  'no-gpu': { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

const CONVERGE_CONFIG_FLAGS: Readonly<Record<string, ConfigFlag>> = {
  'allow-ecs-optimized': 'ALLOW_ECS_OPTIMIZED',
  'ecs-init-version': 'ECSINIT_VERSION',
  'no-gpu': { key: 'GPU_SUPPORT', value: 'no' },
};

const CONVERGE_USAGE =
  '[--json] [--root DIR] [--reset-agent-state] [--ecs-init-version V] [--no-gpu] [--allow-ecs-optimized]';

export const DEFAULT_CONTROL_LISTEN = '127.0.0.1:8480';

export const VERSION_COMMAND = 'version';

/** The internal command a daemon job runs as (src/daemon/job-process.ts starts it). */
export const JOB_COMMAND = 'job';

/** One binary for the CLI and the systemd unit, in the order --help lists them. */
export const COMMANDS: readonly Command[] = [
  {
    name: 'detect',
    summary: 'report the OS, machine and ECS facts, and whether the agent will manage this system',
    usage: ['detect [--json] [--root DIR] [--allow-ecs-optimized]'],
    options: { 'allow-ecs-optimized': { type: 'boolean' } },
    configFlags: { 'allow-ecs-optimized': 'ALLOW_ECS_OPTIMIZED' },
    load: async () => (await import('./detect.ts')).detect,
  },
  {
    name: 'plan',
    summary: 'show every step the agent would take on this system, changing nothing',
    usage: [`plan ${CONVERGE_USAGE}`],
    options: CONVERGE_OPTIONS,
    configFlags: CONVERGE_CONFIG_FLAGS,
    load: async () => (await import('./plan.ts')).plan,
  },
  {
    name: 'apply',
    summary: 'converge this system: install and configure Docker and ECS, then prove the instance registered',
    usage: [`apply [--dry-run] [--no-verify] ${CONVERGE_USAGE}`],
    options: { ...CONVERGE_OPTIONS, 'dry-run': { type: 'boolean' }, 'no-verify': { type: 'boolean' } },
    configFlags: CONVERGE_CONFIG_FLAGS,
    load: async () => (await import('./apply.ts')).apply,
  },
  {
    name: 'run',
    summary: 'run as the daemon: converge at start and on a schedule, run the recurring jobs (systemd unit)',
    usage: ['run'],
    options: {},
    load: async () => (await import('./run.ts')).run,
  },
  {
    name: 'status',
    summary: 'show what the daemon is doing and last did for each task, when, and with what result',
    usage: ['status [--json]'],
    options: {},
    reportsConfigError: true,
    load: async () => (await import('./status.ts')).status,
  },
  {
    name: 'storage',
    summary: "report on Docker's Btrfs image store, or grow it online",
    usage: ['storage status [--json]', 'storage grow [--size N] [--json]   (N like 200G; btrfs-file only)'],
    options: { size: { type: 'string' } },
    load: async () => (await import('./storage.ts')).storage,
  },
  {
    name: 'users',
    summary: 'sync SSH users (keys, groups, sudo) from USERS_SOURCE; touches only the accounts the agent created',
    usage: ['users sync [--dry-run] [--json] [--root DIR]'],
    options: { 'dry-run': { type: 'boolean' } },
    load: async () => (await import('./users.ts')).users,
  },
  {
    name: 'metrics',
    summary: 'take one sample of the host metrics and print it (--deliver: also send it as the daemon would)',
    usage: ['metrics --once [--json] [--deliver]'],
    options: { once: { type: 'boolean' }, deliver: { type: 'boolean' } },
    load: async () => (await import('./metrics.ts')).metrics,
  },
  {
    name: 'updates',
    summary: 'list pending security updates, or apply them and reboot (drained, in the window, a few hosts at a time)',
    usage: ['updates check [--json]', 'updates apply [--reboot=never|if-needed|always] [--dry-run] [--json]'],
    options: { reboot: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    configFlags: { reboot: 'REBOOT_POLICY' },
    load: async () => (await import('./updates.ts')).updates,
  },
  {
    name: 'drain',
    summary: 'set this container instance DRAINING and wait until its tasks are gone (maintenance by hand)',
    usage: ['drain [--timeout D] [--dry-run] [--json]   (D like 30m; default DRAIN_TIMEOUT)'],
    options: { timeout: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    configFlags: { timeout: 'DRAIN_TIMEOUT' },
    load: async () => (await import('./drain.ts')).drain,
  },
  {
    name: 'activate',
    summary: 'set this container instance ACTIVE again after maintenance by hand',
    usage: ['activate [--dry-run] [--json]'],
    options: { 'dry-run': { type: 'boolean' } },
    load: async () => (await import('./activate.ts')).activate,
  },
  {
    name: 'reboot-slot',
    summary: "take, give back or show this host's fleet-wide reboot slot (the daemon takes one before it reboots)",
    usage: [
      'reboot-slot acquire [--ttl D] [--json]   (D: 1m-24h, default REBOOT_LOCK_TTL; again: renews)',
      'reboot-slot release [--json]',
      'reboot-slot status [--json]',
    ],
    options: { ttl: { type: 'string' } },
    load: async () => (await import('./reboot-slot.ts')).rebootSlot,
  },
  {
    name: 'control-server',
    summary: 'run the reference receiver of the control protocol on a loopback port (for trials and tests)',
    usage: [
      `control-server [--listen ${DEFAULT_CONTROL_LISTEN}] [--token-file FILE] [--data-dir DIR] [--users-file FILE] ` +
        '[--print samples|events]   (--print: what --data-dir holds, then exit)',
    ],
    options: {
      listen: { type: 'string', default: DEFAULT_CONTROL_LISTEN },
      'token-file': { type: 'string' },
      'data-dir': { type: 'string' },
      'users-file': { type: 'string' },
      print: { type: 'string' },
    },
    load: async () => (await import('./control-server.ts')).controlServer,
  },
  {
    name: 'doctor',
    summary: 'check why this host would not register or not be healthy: each check with its verdict, evidence and fix',
    usage: ['doctor [--json]'],
    options: {},
    load: async () => (await import('./doctor.ts')).doctor,
  },
  {
    name: 'decommission',
    summary: 'drain this container instance, stop ecs-init, optionally deregister it, clear the agent state',
    usage: [
      'decommission [--deregister] [--timeout D] [--dry-run] [--json] [--on-shutdown]   ' +
        '(--dry-run: changes nothing; --on-shutdown: the poweroff unit)',
    ],
    options: {
      deregister: { type: 'boolean' },
      timeout: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'on-shutdown': { type: 'boolean' },
    },
    configFlags: { timeout: 'DECOMMISSION_TIMEOUT' },
    load: async () => (await import('./decommission.ts')).decommissionCommand,
  },
  {
    name: JOB_COMMAND,
    summary: "run one of the daemon's jobs in a process of its own, as the daemon asks on stdin (internal)",
    usage: [`${JOB_COMMAND} NAME   (started by the daemon, not by hand)`],
    options: {},
    internal: true,
    // Its configuration comes from the daemon on stdin, not from the config file.
    outputOnly: true,
    load: async () => (await import('./job.ts')).job,
  },
  {
    name: VERSION_COMMAND,
    summary: 'print the agent and runtime versions',
    usage: ['version [--json]', '--version'],
    options: {},
    outputOnly: true,
    // Needs nothing and runs nothing at import: loaded with the descriptors, one file fewer for `--version` to read.
    load: async () => version,
  },
];

/** The commands an operator runs, in --help's order: every command but the internal ones. */
export const OPERATOR_COMMANDS: readonly Command[] = COMMANDS.filter((command) => !command.internal);
