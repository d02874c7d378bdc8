/**
 * `npm run bench:users`: sync of 1,000 users from scratch, then a no-op sync
 * of the same 1,000, with the real account tools on a scratch root (file
 * source). Prints both times; never fails on timing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { syncUsers } from '../../src/concerns/users/sync.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { fillAccountsRoot, newKeyPair, usersContext } from '../integration/users/users-root.ts';
import { requireRoot } from '../support/scratch.ts';

const USERS = 1000;

requireRoot();

const root = mkdtempSync(join(tmpdir(), 'eha-users-bench-'));
try {
  fillAccountsRoot(root);
  const key = newKeyPair(root, 'bench').publicLine;
  const document = Object.fromEntries(Array.from({ length: USERS }, (_, i) => [`user${i}`, { sshPublicKeys: [key], sudo: i % 10 === 0 }]));
  writeFileSync(`${root}/users.json`, JSON.stringify(document));

  let commands = 0;
  const context = { ...(await usersContext(root, { USERS_SOURCE: 'file:/users.json' })), host: new RealHost(root, () => commands++) };

  for (const label of ['from scratch', 'no-op']) {
    commands = 0;
    const start = performance.now();
    const report = await syncUsers(context, { dryRun: false });
    const ms = performance.now() - start;
    const failed = report.steps.filter((step) => step.error !== undefined).length;
    console.log(`users sync of ${USERS} users ${label}: ${(ms / 1000).toFixed(2)} s (${report.steps.length} steps, ${failed} failed, ${commands} commands run)`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
