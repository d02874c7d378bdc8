/**
 * The reference receiver's SQLite store on a scratch directory (node:sqlite, the real database engine):
 * each id stored once, across reopening, and a batch stored whole or not at all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';

import { batchIdOf } from '../../../src/control/delivery.ts';
import type { Batch } from '../../../src/control/protocol.ts';
import { SqliteStore } from '../../../src/control/receiver-store.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { withoutSqliteWarning } from '../../../src/host/sqlite.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import { scratchDir } from '../../support/scratch.ts';
import { sample, status } from '../../unit/control/fixtures.ts';

function batch(samples: readonly Sample[]): Batch {
  const sentAt = '2026-11-22T12:00:00.000Z';
  return { protocol: 1, batchId: batchIdOf(samples), hostId: 'host-1', sentAt, samples, status: status() };
}

const ids = (items: readonly Record<string, unknown>[] | readonly Sample[]) => items.map((item) => item.id);

test('each sample id is stored once, also after the store is closed and opened again', async (t) => {
  const dir = scratchDir(t);
  const host = new RealHost('/');
  const first = await SqliteStore.open(host, dir);
  assert.deepEqual(ids(await first.addSamples(batch([sample(1), sample(2)]))), [sample(1).id, sample(2).id]);
  assert.deepEqual(ids(await first.addSamples(batch([sample(2), sample(3)]))), [sample(3).id]);
  await first.close();
  const reopened = await SqliteStore.open(host, dir);
  assert.deepEqual(await reopened.addSamples(batch([sample(1), sample(2)])), [], 'a batch re-sent after a restart');
  assert.deepEqual(ids(await reopened.addSamples(batch([sample(3), sample(4)]))), [sample(4).id]);
  assert.deepEqual(
    ids([...reopened.stored('samples')]),
    [1, 2, 3, 4].map((i) => sample(i).id),
  );
  assert.equal([...reopened.stored('samples')][0]?.hostId, 'host-1');
  await reopened.close();
});

test('a batch that fails half-way stores none of its samples', async (t) => {
  const dir = scratchDir(t);
  const store = await SqliteStore.open(new RealHost('/'), dir);
  t.after(() => store.close());
  const broken = { ...sample(2), time: { not: 'a string' } as unknown as string };
  await assert.rejects(store.addSamples(batch([sample(1), broken])));
  assert.deepEqual([...store.stored('samples')], []);
  assert.deepEqual(ids(await store.addSamples(batch([sample(1)]))), [sample(1).id]);
});

test('a database of another schema version is refused, naming the file', async (t) => {
  const dir = scratchDir(t);
  const database = new DatabaseSync(join(dir, 'receiver.sqlite'));
  database.exec('PRAGMA user_version = 7');
  database.close();
  await assert.rejects(SqliteStore.open(new RealHost('/'), dir), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /receiver\.sqlite has schema version 7; this receiver reads version 1/);
    return true;
  });
});

test('loading SQLite holds back exactly its ExperimentalWarning (Node 22 and 23 print it), nothing else', async () => {
  const seen: string[] = [];
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error) => void seen.push(String(warning))) as typeof process.emitWarning;
  try {
    await withoutSqliteWarning(async () => {
      process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
      process.emitWarning('Something else is experimental', 'ExperimentalWarning');
      process.emitWarning('SQLite is an experimental feature and might change at any time', 'DeprecationWarning');
    });
    process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
  } finally {
    process.emitWarning = original;
  }
  assert.deepEqual(seen, [
    'Something else is experimental',
    'SQLite is an experimental feature and might change at any time',
    'SQLite is an experimental feature and might change at any time',
  ]);
});
