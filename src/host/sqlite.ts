import type { DatabaseSync } from 'node:sqlite';

import type { Host } from './host.ts';

/**
 * SQLite through node:sqlite, built into the runtime (Node 24) the agent ships with: the one place it is loaded,
 * for the reference control receiver's store. Loaded on first use only, so no other command pays for it.
 *
 * Node 22 and 23 print "ExperimentalWarning: SQLite is an experimental feature and might change at any time" to
 * stderr when the module is first loaded (checked: the shipped 24.21.0 prints nothing). That line is no news to an
 * operator and reads like a fault, so exactly that warning is held back while the module loads; every other
 * warning passes.
 */
export async function openDatabase(host: Host, path: string): Promise<DatabaseSync> {
  const { DatabaseSync: Database } = await withoutSqliteWarning(() => import('node:sqlite'));
  return new Database(await host.localPath(path));
}

export async function withoutSqliteWarning<T>(load: () => Promise<T>): Promise<T> {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    const experimental = type === 'ExperimentalWarning' || (warning as Error).name === 'ExperimentalWarning';
    const sqlite = experimental && /^SQLite is an experimental feature/.test(text);
    if (!sqlite) Reflect.apply(emitWarning, process, [warning, ...rest]);
  } as typeof process.emitWarning;
  try {
    return await load();
  } finally {
    process.emitWarning = emitWarning;
  }
}
