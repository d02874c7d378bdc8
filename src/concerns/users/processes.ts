import type { Host } from '../../host/host.ts';

/**
 * The processes that keep a user's account alive: any of their real, effective, saved or filesystem uids is the
 * user's (what userdel checks before it refuses with "currently used by process"). Only processes in the agent's
 * own PID namespace count: a container running as the same numeric uid is not the user's session, and ending it
 * would stop somebody's task. Zombies are left out: they are gone already, only not yet reaped.
 */
export type ProcessesByUid = ReadonlyMap<number, readonly number[]>;

export async function processesOf(host: Host, uids: ReadonlySet<number>): Promise<ProcessesByUid> {
  const found = new Map<number, number[]>();
  if (uids.size === 0 || host.root !== '/') return found;
  const own = parseStatus(await host.readText('/proc/self/status'));
  const pids = (await host.readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const statuses = await Promise.all(pids.map((pid) => host.readText(`/proc/${pid}/status`).catch(() => null)));
  statuses.forEach((text, index) => {
    const status = text === null ? null : parseStatus(text);
    if (status === null || status.zombie || status.namespaceDepth !== own?.namespaceDepth) return;
    const uid = status.uids.find((candidate) => uids.has(candidate));
    if (uid !== undefined) found.set(uid, [...(found.get(uid) ?? []), Number(pids[index])]);
  });
  return found;
}

interface Status {
  readonly uids: readonly number[];
  readonly zombie: boolean;
  /** How many PID namespaces the process is nested in (the NSpid line lists its pid in each). */
  readonly namespaceDepth: number;
}

function parseStatus(text: string): Status | null {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1];
  const uids = field('Uid');
  if (uids === undefined) return null;
  return {
    uids: uids.split(/\s+/).map(Number),
    zombie: /^[ZX]/.test(field('State') ?? ''),
    namespaceDepth: (field('NSpid') ?? '').split(/\s+/).filter(Boolean).length,
  };
}
