import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { Spool } from '../../../src/control/spool.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { scratchDir } from '../../support/scratch.ts';

const WRITER = new URL('./spool-writer.ts', import.meta.url).pathname;

/** Runs the writer until it has appended `count` samples, then SIGKILLs it mid-write; returns the acknowledged ids. */
function writeThenKill(dir: string, count: number): Promise<{ opened: number; acked: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.split('\n').length > count + 1) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited with ${code}: ${stderr}`));
      const lines = out.split('\n');
      const opened = Number(/^opened (\d+)$/.exec(lines[0] ?? '')?.[1] ?? NaN);
      resolve({ opened, acked: lines.slice(1).filter((line) => /^[0-9a-f-]{36}$/.test(line)) });
    });
  });
}

test(
  'SIGKILL mid-write, a torn segment and a leftover temporary file: the spool recovers, ids stay ' +
    'unique, no crash loop',
  async (t) => {
    const dir = join(scratchDir(t), 'spool');
    const first = await writeThenKill(dir, 40);
    assert.equal(first.opened, 0);
    const segments = readdirSync(dir)
      .filter((name) => name.endsWith('.seg'))
      .sort();
    const newest = join(dir, segments.at(-1) as string);
    truncateSync(newest, Math.floor(readFileSync(newest).length / 2));
    const leftover = join(dir, '.000000099999-1-1.seg.1.dead.tmp');
    writeFileSync(leftover, '{"half');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(leftover, hourAgo, hourAgo); // left by a crash an hour ago, not being written by a live writer

    const second = await writeThenKill(dir, 10);
    assert.equal(
      second.opened,
      segments.length,
      'the restarted writer opened the spool (a torn segment is found when it is read)',
    );
    assert.ok(
      !readdirSync(dir).some((name) => name.endsWith('.tmp') && name.includes('dead')),
      'temporary files are removed on open',
    );

    const spool = new Spool(new RealHost('/'), { dir, maxBytes: 2 ** 30, maxAgeMs: 90 * 86_400_000 }, silentLogger);
    await spool.open();
    const { items: samples } = await spool.oldest(10_000, 2 ** 30);
    const ids = samples.map((sample) => sample.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    for (const id of [...first.acked.slice(0, -1), ...second.acked])
      assert.ok(ids.includes(id), `acknowledged sample ${id} survived`);
    assert.equal(spool.status().droppedSamples, 1, 'the torn segment is counted as dropped');
  },
);
