import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { TestContext } from 'node:test';

import { LOCK_DIR } from '../../src/daemon/lock.ts';
import { PATHS } from '../../src/core/paths.ts';
import { scratchDir } from './scratch.ts';

/**
 * Scratch directories standing in for the agent's machine-wide ones: `run` for /run/ecs-host-agent (the one-daemon
 * lock), `state` for /var/lib/ecs-host-agent (status.json, the host id …).
 */
export interface AgentDirs {
  readonly run: string;
  readonly state: string;
}

export function agentDirs(t: TestContext): AgentDirs {
  const dir = scratchDir(t, 'eha-dirs-');
  const dirs = { run: `${dir}/run`, state: `${dir}/state` };
  mkdirSync(dirs.run);
  mkdirSync(dirs.state);
  return dirs;
}

/**
 * Binds each scratch directory over the machine's one it stands for, then execs the command, in a mount namespace
 * of its own: suites running daemons at the same time (and this machine's own agent) never share a lock, a status
 * file or (bound over /etc and /home) an account. The command keeps its pid (unshare and sh exec it); the mounts
 * end with the namespace's last process. The mount points are made first if missing, as the agent would make them.
 */
const BIND_THEN_EXEC =
  'while [ "$1" != -- ]; do mkdir -p -- "$2" && mount --bind -- "$1" "$2" || exit 1; shift 2; done; shift; exec "$@"';

/** [file, args] that run `argv` with each [scratch, machine path] pair of `binds` bound over the machine's. */
export function inBinds(binds: readonly (readonly [string, string])[], argv: readonly string[]): [string, string[]] {
  const shell = ['sh', '-c', BIND_THEN_EXEC, 'sh', ...binds.flat(), '--', ...argv];
  return ['unshare', ['--mount', '--propagation', 'private', '--', ...shell]];
}

/** [file, args] that run `argv` with `dirs` as the agent's directories. */
export function inAgentDirs(dirs: AgentDirs, argv: readonly string[]): [string, string[]] {
  return inBinds(agentBinds(dirs), argv);
}

export function agentBinds(dirs: AgentDirs): [string, string][] {
  return [
    [dirs.run, LOCK_DIR],
    [dirs.state, PATHS.agentState],
  ];
}

/**
 * Scratch stand-ins in `dir` for what an account sync writes on this machine (a copy of /etc; an empty /home and
 * /var/log) and for the agent's own directories, as pairs for inBinds: accounts made inside exist only there.
 */
export function accountBinds(dir: string): [string, string][] {
  execFileSync('cp', ['-a', '--', '/etc', `${dir}/etc`]);
  for (const name of ['home', 'log', 'run', 'state']) mkdirSync(`${dir}/${name}`);
  const agent = agentBinds({ run: `${dir}/run`, state: `${dir}/state` });
  return [[`${dir}/etc`, '/etc'], [`${dir}/home`, '/home'], [`${dir}/log`, '/var/log'], ...agent];
}
