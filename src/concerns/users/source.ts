import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';

import { hostSsmClient } from '../../aws/clients.ts';
import { fetchUsersDocument } from '../../control/client.ts';
import type { ConcernContext } from '../../core/concern.ts';
import type { UsersSource } from '../../core/config/keys.ts';
import { AgentError, messageOf } from '../../core/errors.ts';
import { parseJson } from '../../core/json.ts';
import type { SourceEntry } from './document.ts';

/**
 * Reads USERS_SOURCE into one entry per user. A source that cannot be read
 * as a whole fails the sync (nothing changes: an unreadable source must never
 * look like an empty one, which would lock everybody out); a single bad entry
 * only rejects that user.
 */
export class UsersSourceError extends AgentError {}

/** The control endpoint's users document (GET {CONTROL_URL}/v1/users); injectable for tests. */
export type FetchUsersDocument = (context: ConcernContext) => Promise<unknown>;

const fromControlEndpoint: FetchUsersDocument = (context) => fetchUsersDocument(context.host, context.config);

export interface SourceOptions {
  readonly fetchUsersDocument?: FetchUsersDocument;
}

const MAX_USERS = 10_000;
const SSM_PAGE_SIZE = 10;

export function describeSource(source: UsersSource): string {
  return source.kind === 'control' ? 'control' : `${source.kind}:${source.path}`;
}

export async function readSource(context: ConcernContext, source: UsersSource, options: SourceOptions): Promise<SourceEntry[]> {
  const entries = await readEntries(context, source, options);
  if (entries.length > MAX_USERS) throw new UsersSourceError(`${describeSource(source)} lists ${entries.length} users; at most ${MAX_USERS} are synced`);
  return entries;
}

async function readEntries(context: ConcernContext, source: UsersSource, options: SourceOptions): Promise<SourceEntry[]> {
  switch (source.kind) {
    case 'file': {
      const where = `file:${source.path}`;
      return entriesOfDocument(parseDocument(await readFile(context, source.path), where), where);
    }
    case 'control':
      return entriesOfDocument(await fetchControl(() => (options.fetchUsersDocument ?? fromControlEndpoint)(context)), 'control');
    case 'ssm':
      return readSsm(await hostSsmClient(context.host, context.config), source.path);
  }
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

function parseDocument(text: string, where: string): unknown {
  return parseJson(text, (reason) => {
    throw new UsersSourceError(`${where} is not JSON: ${reason}`);
  });
}

/** The file and control sources: one object mapping each user name to its document. */
export function entriesOfDocument(document: unknown, where: string): SourceEntry[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new UsersSourceError(`${where} is not a JSON object mapping user names to their documents`);
  }
  return Object.entries(document).map(([name, value]) => ({ name, document: value }));
}

/** One parameter per user under the prefix, its name the user's; SecureString values are decrypted. */
async function readSsm(ssm: SSMClient, prefix: string): Promise<SourceEntry[]> {
  const path = prefix.replace(/\/+$/, '') || '/';
  const entries: SourceEntry[] = [];
  let nextToken: string | undefined;
  do {
    const reply = await ssm
      .send(new GetParametersByPathCommand({ Path: path, Recursive: true, WithDecryption: true, MaxResults: SSM_PAGE_SIZE, NextToken: nextToken }))
      .catch((error: unknown) => {
        throw new UsersSourceError(`ssm:${path}: GetParametersByPath failed: ${messageOf(error)}`);
      });
    for (const parameter of reply.Parameters ?? []) entries.push(ssmEntry(path, parameter.Name ?? '', parameter.Value ?? ''));
    if (entries.length > MAX_USERS) break;
    nextToken = reply.NextToken;
  } while (nextToken);
  return entries;
}

function ssmEntry(path: string, parameterName: string, value: string): SourceEntry {
  const name = parameterName.slice(path === '/' ? 1 : path.length + 1);
  try {
    return { name, document: JSON.parse(value) };
  } catch {
    // The value may be a SecureString: say what is wrong with it, never what it holds.
    return { name, error: `parameter ${parameterName} is not JSON` };
  }
}

