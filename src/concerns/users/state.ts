import type { Host } from '../../host/host.ts';
import { readTextIfExists } from '../../host/host.ts';
import { AgentError } from '../../core/errors.ts';
import { USERS } from './settings.ts';

/**
 * The names of the accounts this agent created. An account counts as managed
 * only when it is listed here and is a member of the marker group, so neither
 * a stray state entry nor a group membership alone hands an account over.
 */
export class UsersStateError extends AgentError {}

export async function readState(host: Host): Promise<readonly string[]> {
  const text = await readTextIfExists(host, USERS.stateFile);
  if (text === null) return [];
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    state = null;
  }
  const names = (state as { managedUsers?: unknown } | null)?.managedUsers;
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    throw new UsersStateError(`${USERS.stateFile} is damaged (expected {"managedUsers": [names]}); no user is touched until it is fixed or removed`);
  }
  return names;
}

export function stateText(names: readonly string[]): string {
  return `${JSON.stringify({ managedUsers: [...new Set(names)].sort() }, null, 2)}\n`;
}

export async function writeState(host: Host, names: readonly string[]): Promise<void> {
  await host.mkdir(USERS.stateDirectory, { mode: 0o755 });
  await host.writeFileAtomic(USERS.stateFile, stateText(names), { mode: 0o600, uid: 0, gid: 0 });
}
