import { DEFAULT_TUNING } from '../../aws/clients.ts';
import { awsSettings, hostRegion } from '../../aws/region.ts';
import { createSsm, type Ssm } from '../../aws/ssm.ts';
import type { ConcernContext } from '../../core/concern.ts';
import { messageOf } from '../../core/errors.ts';
import type { SourceEntry } from './document.ts';
import { parseJsonNamingDuplicates } from './json.ts';
import { USERS } from './settings.ts';
import { readSourceCache, type SourceCacheRecord } from './source-cache.ts';
import { type SourceRead, twiceMessage, UsersSourceError } from './source.ts';

/**
 * USERS_SOURCE=ssm:/prefix: one parameter per user below the prefix (/prefix/alice), read with
 * GetParametersByPath, which returns at most 10 parameters a call: 100 calls for 1,000 users.
 *
 * A fleet cannot pay that on every host every few minutes, so the parameter named exactly /prefix, when it
 * exists, is the source's generation: operators change it (any new value, or the same value written again:
 * its version moves) after changing users. A sync first reads it (one call); when its version and value are
 * those of the last full read, the users come from that read, kept in USERS.sourceCacheFile. Without the
 * generation parameter every sync reads everything, as before.
 *
 * Throttled calls are retried by the SDK with backoff; a call that still fails fails the whole sync, never
 * reads as fewer users.
 */
const PAGE_SIZE = 10;
const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ThrottledException',
  'RequestLimitExceeded',
]);

interface Generation {
  readonly version: number;
  readonly value: string;
}

export async function readSsmSource(context: ConcernContext, prefix: string): Promise<SourceRead> {
  const path = prefix.replace(/\/+$/, '') || '/';
  const source = `ssm:${path}`;
  const ssm = await client(context);
  const generation = path === '/' ? null : await readGeneration(ssm, source, path);
  if (generation !== null) {
    const cached = await readSourceCache(context.host);
    if (cached !== null && isCurrent(cached, source, generation, context.host.now())) {
      const note = `generation ${generation.version} unchanged since ${cached.readAt}: users from the last full read`;
      return { entries: entriesOf(path, cached.parameters), note, cache: null };
    }
  }
  const parameters = await readAll(ssm, source, path);
  const cache =
    generation === null ? null : { source, generation, readAt: context.host.now().toISOString(), parameters };
  const note =
    generation === null
      ? `no generation parameter ${path}: read in full`
      : `generation ${generation.version}: read in full`;
  return { entries: entriesOf(path, parameters), note, cache };
}

async function client(context: ConcernContext): Promise<Ssm> {
  const settings = awsSettings(context.config, await hostRegion(context.host, context.config));
  return createSsm(context.host, settings, {
    maxAttempts: USERS.ssmAttempts,
    requestTimeoutMs: DEFAULT_TUNING.requestTimeoutMs,
    // Adaptive: a throttled client also slows its own later calls, which is what a fleet sharing one quota needs.
    retryMode: 'adaptive',
  });
}

function isCurrent(cached: SourceCacheRecord, source: string, generation: Generation, now: Date): boolean {
  const age = now.getTime() - Date.parse(cached.readAt);
  return (
    cached.source === source &&
    cached.generation.version === generation.version &&
    cached.generation.value === generation.value &&
    age >= 0 &&
    age < USERS.sourceCacheMaxAgeMs
  );
}

async function readGeneration(ssm: Ssm, source: string, path: string): Promise<Generation | null> {
  try {
    const reply = await ssm.getParameter({ Name: path, WithDecryption: true });
    return { version: reply.Parameter?.Version ?? 0, value: reply.Parameter?.Value ?? '' };
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return null;
    throw failure(source, 'GetParameter', error);
  }
}

async function readAll(ssm: Ssm, source: string, path: string): Promise<Record<string, string>> {
  const parameters: Record<string, string> = {};
  let count = 0;
  const pages = ssm.parametersByPath({ Path: path, Recursive: true, WithDecryption: true, MaxResults: PAGE_SIZE });
  try {
    for await (const reply of pages) {
      for (const parameter of reply.Parameters ?? []) {
        const name = (parameter.Name ?? '').slice(path === '/' ? 1 : path.length + 1);
        parameters[name] = parameter.Value ?? '';
        count++;
      }
      // More than the sync takes: readSource refuses it as a whole.
      if (count > USERS.maxSourceUsers) break;
    }
  } catch (error) {
    throw failure(source, 'GetParametersByPath', error);
  }
  return parameters;
}

function failure(source: string, call: string, error: unknown): UsersSourceError {
  const name = (error as Error).name;
  const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
  const tried = attempts === undefined ? '' : ` (${attempts} attempt${attempts === 1 ? '' : 's'})`;
  const what = THROTTLING.has(name)
    ? `was throttled${tried}: ${messageOf(error)}`
    : `failed${tried}: ${messageOf(error)}`;
  return new UsersSourceError(`${source}: ${call} ${what}; nothing was changed, the next sync reads it again`);
}

function entriesOf(path: string, parameters: Readonly<Record<string, string>>): SourceEntry[] {
  return Object.entries(parameters).map(([name, value]) => entryOf(path, name, value));
}

function entryOf(path: string, name: string, value: string): SourceEntry {
  const parameterName = `${path === '/' ? '' : path}/${name}`;
  try {
    const parsed = parseJsonNamingDuplicates(value);
    const repeated = parsed.duplicates[0];
    if (repeated !== undefined) return { name, error: `parameter ${parameterName}: ${twiceMessage(repeated)}` };
    return { name, document: parsed.value };
  } catch {
    // The value may be a SecureString: say what is wrong with it, never what it holds.
    return { name, error: `parameter ${parameterName} is not JSON` };
  }
}
