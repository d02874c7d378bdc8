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
 * Binds `dirs` over the machine-wide directories, then execs the command, in a mount namespace of its own: suites
 * running daemons at the same time (and this machine's own agent) never share a lock or a status file. The command
 * keeps its pid (unshare and sh exec it); the mounts end with the namespace's last process. The mount points are
 * made first if missing, as the agent would make them.
 */
const BIND_THEN_EXEC =
  'mkdir -p -- "$3" "$4" && mount --bind -- "$1" "$3" && mount --bind -- "$2" "$4" && shift 4 && exec "$@"';

/** [file, args] that run `argv` with `dirs` as the agent's directories. */
export function inAgentDirs(dirs: AgentDirs, argv: readonly string[]): [string, string[]] {
  const binds = [dirs.run, dirs.state, LOCK_DIR, PATHS.agentState];
  const shell = ['sh', '-c', BIND_THEN_EXEC, 'sh', ...binds, ...argv];
  return ['unshare', ['--mount', '--propagation', 'private', '--', ...shell]];
}
