import type { Host } from '../../host/host.ts';
import { readTextIfExists } from '../../host/host.ts';
import { USERS } from './settings.ts';

/**
 * An ssm: source as last read in full, kept so that a sync whose generation parameter has not changed costs one
 * API call instead of one per ten users. Parameter values may come from SecureStrings: the file is root's, 0600.
 */
export interface SourceCacheRecord {
  readonly source: string;
  /** The generation parameter's version and value when the parameters were read. */
  readonly generation: { readonly version: number; readonly value: string };
  /** When they were read (ISO 8601): a record older than USERS.sourceCacheMaxAgeMs is read again in full. */
  readonly readAt: string;
  /** Parameter name (below the prefix) to its value, as SSM returned it. */
  readonly parameters: Readonly<Record<string, string>>;
}

export async function readSourceCache(host: Host): Promise<SourceCacheRecord | null> {
  const text = await readTextIfExists(host, USERS.sourceCacheFile);
  if (text === null) return null;
  try {
    const record = JSON.parse(text) as SourceCacheRecord;
    const valid =
      typeof record.source === 'string' &&
      typeof record.readAt === 'string' &&
      typeof record.generation?.version === 'number' &&
      typeof record.generation.value === 'string' &&
      typeof record.parameters === 'object' &&
      record.parameters !== null &&
      Object.values(record.parameters).every((value) => typeof value === 'string');
    // A damaged cache only costs a full read.
    return valid ? record : null;
  } catch {
    return null;
  }
}

/** The file's content for a record (written by a step of the plan: root's, 0600). */
export function sourceCacheText(record: SourceCacheRecord): string {
  return `${JSON.stringify(record)}\n`;
}
