import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { Spool } from '../../../src/control/spool.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { scratchDir } from '../../support/scratch.ts';

const APPENDER = new URL('./spool-appender.ts', import.meta.url).pathname;
const APPENDS = 300;

interface Writer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

function startWriter(dir: string, timeMs: number, tag: string): Writer {
  const child = spawn(process.execPath, [APPENDER, dir, String(APPENDS), String(timeMs), tag], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.on('exit', () => reject(new Error(`writer ${tag} exited before it was ready: ${stderr}`)));
  });
  const exited = once(child, 'exit').then(([code]) => assert.equal(code, 0, `writer ${tag} failed: ${stderr}`));
  return { child, ready, exited };
}

test('two processes appending to one spool at the same moment, with the same names, lose no segment', async (t) => {
  const dir = join(scratchDir(t), 'spool');
  const timeMs = Date.now();
  const writers = [startWriter(dir, timeMs, 'daemon'), startWriter(dir, timeMs, 'decommission')];
  t.after(() => {
    for (const { child } of writers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await Promise.all(writers.map((writer) => writer.ready));
  for (const { child } of writers) child.stdin?.end('go\n');
  await Promise.all(writers.map((writer) => writer.exited));

  const names = readdirSync(dir);
  assert.deepEqual(
    names.filter((name) => name.endsWith('.tmp')),
    [],
    'no temporary file is left',
  );
  assert.equal(names.filter((name) => name.endsWith('.seg')).length, 2 * APPENDS, 'one segment per append');
  const spool = new Spool(new RealHost('/'), { dir, maxBytes: 2 ** 30, maxAgeMs: 90 * 86_400_000 }, silentLogger);
  await spool.open();
  const ids = (await spool.oldest(10 * APPENDS, 2 ** 30)).items.map((item) => item.id).sort();
  const expected = ['daemon', 'decommission']
    .flatMap((tag) => Array.from({ length: APPENDS }, (_, i) => `${tag}-${i + 1}`))
    .sort();
  assert.deepEqual(ids, expected);
  assert.deepEqual(spool.status(), {
    pendingSamples: 2 * APPENDS,
    pendingBytes: spool.status().pendingBytes,
    droppedSamples: 0,
    rejectedSamples: 0,
  });
});
