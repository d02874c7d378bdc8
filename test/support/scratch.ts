import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A temporary directory removed when the test ends, pass or fail. */
export function scratchDir(t: TestContext, prefix = 'eha-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Fails the test loudly when it does not run as root (it would otherwise test nothing). */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (run the suite as root: sudo npm test)');
}
