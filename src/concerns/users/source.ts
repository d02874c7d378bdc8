import type { ConcernContext } from '../../core/concern.ts';
import type { UsersSource } from '../../core/config/keys.ts';
import { AgentError, messageOf } from '../../core/errors.ts';
import type { SourceEntry } from './document.ts';
import { parseJsonNamingDuplicates } from './json.ts';
import { USERS } from './settings.ts';
import type { SourceCacheRecord } from './source-cache.ts';

/**
 * Reads USERS_SOURCE into one entry per user. A source that cannot be read
 * as a whole fails the sync (nothing changes: an unreadable source must never
 * look like an empty one, which would lock everybody out); a single bad entry
 * only rejects that user.
 */
export class UsersSourceError extends AgentError {}

/** The control endpoint's users document (GET {CONTROL_URL}/v1/users); injectable for tests. */
export type FetchUsersDocument = (context: ConcernContext) => Promise<unknown>;

export interface SourceOptions {
  readonly fetchUsersDocument?: FetchUsersDocument;
}

export interface SourceRead {
  readonly entries: readonly SourceEntry[];
  /** How the source was read, for the report ("generation 7 unchanged: read from the cache"). */
  readonly note: string | null;
  /** A full read of an ssm: source with a generation, to keep for the syncs that follow. */
  readonly cache: SourceCacheRecord | null;
}

export function describeSource(source: UsersSource): string {
  return source.kind === 'control' ? 'control' : `${source.kind}:${source.path}`;
}

export async function readSource(
  context: ConcernContext,
  source: UsersSource,
  options: SourceOptions,
): Promise<SourceRead> {
  const read = await readEntries(context, source, options);
  if (read.entries.length > USERS.maxSourceUsers) {
    const count = `${read.entries.length} users`;
    throw new UsersSourceError(`${describeSource(source)} lists ${count}; at most ${USERS.maxSourceUsers} are synced`);
  }
  return read;
}

async function readEntries(context: ConcernContext, source: UsersSource, options: SourceOptions): Promise<SourceRead> {
  switch (source.kind) {
    case 'file': {
      const where = `file:${source.path}`;
      return plain(entriesOfText(await readFile(context, source.path), where));
    }
    case 'control':
      return plain(
        entriesOfDocument(
          await fetchControl(() => (options.fetchUsersDocument ?? fromControlEndpoint)(context)),
          'control',
        ),
      );
    case 'ssm': {
      // The SDK loads only for ssm: sources, so a file source's sync starts fast.
      const { readSsmSource } = await import('./source-ssm.ts');
      return readSsmSource(context, source.path);
    }
  }
}

function plain(entries: SourceEntry[]): SourceRead {
  return { entries, note: null, cache: null };
}

async function fromControlEndpoint(context: ConcernContext): Promise<unknown> {
  const { fetchUsersDocument } = await import('../../control/client.ts');
  return fetchUsersDocument(context.host, context.config);
}

async function readFile(context: ConcernContext, path: string): Promise<string> {
  try {
    return await context.host.readText(path);
  } catch (error) {
    throw new UsersSourceError(`file:${path} cannot be read: ${messageOf(error)}`);
  }
}

async function fetchControl(fetch: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fetch();
  } catch (error) {
    throw new UsersSourceError(`control: the users document could not be fetched: ${messageOf(error)}`);
  }
}

/** A document as text (the file source): a user listed twice, or a field given twice, rejects that user. */
export function entriesOfText(text: string, where: string): SourceEntry[] {
  let parsed: ReturnType<typeof parseJsonNamingDuplicates>;
  try {
    parsed = parseJsonNamingDuplicates(text);
  } catch (error) {
    throw new UsersSourceError(`${where} is not JSON: ${messageOf(error)}`);
  }
  const repeated = new Map<string, string>();
  for (const [name = '', ...field] of parsed.duplicates) {
    if (repeated.has(name)) continue;
    repeated.set(
      name,
      field.length === 0 ? `is listed twice in ${where}; allowed: each user once` : twiceMessage(field),
    );
  }
  return entriesOfDocument(parsed.value, where).map((entry) => {
    const error = repeated.get(entry.name);
    return error === undefined ? entry : { name: entry.name, error };
  });
}

/** For a key given twice in one user's document: which one counts would depend on the JSON reader. */
export function twiceMessage(path: readonly string[]): string {
  return `field ${path.map((part) => JSON.stringify(part)).join(' > ')} is given twice; allowed: each field once`;
}

/** The file and control sources: one object mapping each user name to its document. */
export function entriesOfDocument(document: unknown, where: string): SourceEntry[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new UsersSourceError(`${where} is not a JSON object mapping user names to their documents`);
  }
  return Object.entries(document).map(([name, value]) => ({ name, document: value }));
}
