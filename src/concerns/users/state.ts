import type { Host } from '../../host/host.ts';
import { readTextIfExists } from '../../host/host.ts';
import { AgentError } from '../../core/errors.ts';
import type { EditStep } from '../../core/step.ts';
import { USERS } from './settings.ts';

/**
 * What the agent remembers of the accounts it made (/var/lib/ecs-host-agent/users.json):
 *   managedUsers  every account it created. An account counts as managed only when it is listed here and is a
 *                 member of the marker group, so neither a stray entry nor a group membership alone hands it over.
 *   creating      accounts whose creation has not been seen through (home, skel, keys): a sync that was killed half
 *                 way leaves them here, and the next sync finishes them.
 *   retiredUids   uids of accounts it deleted: never given to a new account, so nobody inherits the files the old
 *                 account left outside its home.
 * Earlier versions wrote only managedUsers; that file reads as nothing being created and no uid retired.
 */
export interface UsersState {
  readonly managedUsers: readonly string[];
  readonly creating: readonly string[];
  readonly retiredUids: readonly number[];
}

/** A change to the state file, applied to what is on disk when the step runs. */
export interface StateChange {
  /** Recorded as managed and being created, before their accounts exist. */
  readonly creating?: readonly string[];
  /** Seen through: no longer being created. */
  readonly created?: readonly string[];
  /** Forgotten: their accounts are gone. */
  readonly forget?: readonly string[];
  readonly retireUids?: readonly number[];
}

export const EMPTY_STATE: UsersState = { managedUsers: [], creating: [], retiredUids: [] };

export async function readState(host: Host): Promise<UsersState> {
  return parseState(await readTextIfExists(host, USERS.stateFile));
}

/** The state file's text, or null (or empty: an edit step reads a missing file as '') when there is none. */
function parseState(text: string | null): UsersState {
  if (text === null || text === '') return EMPTY_STATE;
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    state = null;
  }
  const fields = (state ?? {}) as Record<string, unknown>;
  const { managedUsers, creating = [], retiredUids = [] } = fields;
  if (!isList(managedUsers, 'string') || !isList(creating, 'string') || !isList(retiredUids, 'number')) {
    throw new AgentError(
      `${USERS.stateFile} is damaged ` +
        '(expected {"managedUsers": [names], "creating": [names], "retiredUids": [uids]}); ' +
        'no user is touched until it is fixed or removed',
    );
  }
  return { managedUsers, creating, retiredUids };
}

function isList<T extends 'string' | 'number'>(
  value: unknown,
  type: T,
): value is (T extends 'string' ? string : number)[] {
  return Array.isArray(value) && value.every((item) => typeof item === type);
}

export function changedState(state: UsersState, change: StateChange): UsersState {
  const forget = new Set(change.forget ?? []);
  const created = new Set(change.created ?? []);
  const keep = (name: string) => !forget.has(name);
  return {
    managedUsers: [...new Set([...state.managedUsers, ...(change.creating ?? [])])].filter(keep).sort(),
    creating: [...new Set([...state.creating, ...(change.creating ?? [])])]
      .filter((name) => keep(name) && !created.has(name))
      .sort(),
    retiredUids: [...new Set([...state.retiredUids, ...(change.retireUids ?? [])])].sort((a, b) => a - b),
  };
}

export function stateText(state: UsersState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** The change made to the state file as it is when the step runs (earlier steps of the sync changed it too). */
export function stateEdit(change: StateChange): EditStep {
  return {
    edit: USERS.stateFile,
    mode: 0o600,
    changes: describeChange(change),
    change: (text) => stateText(changedState(parseState(text), change)),
  };
}

/** What the edit does to each list: lines that are no lines of the JSON file, for an operator to read. */
function describeChange(change: StateChange): string[] {
  const list = (names: readonly (string | number)[] | undefined, what: string) =>
    names === undefined || names.length === 0 ? [] : [`${what}: ${names.join(', ')}`];
  return [
    ...list(change.creating, 'add to managedUsers and creating'),
    ...list(change.created, 'remove from creating (set up)'),
    ...list(change.forget, 'remove from managedUsers and creating'),
    ...list(change.retireUids, 'add to retiredUids'),
  ];
}
