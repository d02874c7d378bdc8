/**
 * The CLI's stdout and stderr written straight to their descriptors
 * (src/host/stdio.ts), through real pipes whose reader is slower than the
 * writer and to a file: every byte arrives, in order.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';

import { REPO } from '../support/paths.ts';
import { scratchDir } from '../support/scratch.ts';

/** Ten lines of 200 KiB each to stdout, then one to stderr: megabytes, more than any pipe holds. */
const WRITER = `
import { descriptorSink } from ${JSON.stringify(`${REPO}src/host/stdio.ts`)};
const out = descriptorSink(1, () => process.stdout);
for (let i = 0; i < 10; i++) out.write(String(i).repeat(200 * 1024) + '\\n');
descriptorSink(2, () => process.stderr).write('done\\n');
`;
const EXPECTED = Array.from({ length: 10 }, (_, i) => `${String(i).repeat(200 * 1024)}\n`).join('');

test('through a pipe read slowly, every byte arrives in order', async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  for await (const chunk of child.stdout) {
    chunks.push(chunk as Buffer);
    await delay(1); // a reader slower than the writer: the pipe fills
  }
  const code = await new Promise((resolve) =>
    child.exitCode === null ? child.once('exit', resolve) : resolve(child.exitCode),
  );
  assert.equal(code, 0, stderr);
  assert.equal(stderr, 'done\n');
  assert.equal(Buffer.concat(chunks).toString(), EXPECTED);
});

test('to a file, every byte arrives in order', (t) => {
  const file = `${scratchDir(t)}/out`;
  const fd = openSync(file, 'w');
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', WRITER], {
    encoding: 'utf8',
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(readFileSync(file, 'utf8'), EXPECTED);
});
