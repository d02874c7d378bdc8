/**
 * Child process of the crash test: appends samples to the spool in DIR as fast
 * as it can and prints each id once its append returned, until it is killed.
 */
import { randomUUID } from 'node:crypto';

import { Spool } from '../../../src/control/spool.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { sample } from '../../unit/control/fixtures.ts';

const dir = process.argv[2] as string;
const spool = new Spool(new RealHost('/'), { dir, maxBytes: 2 ** 30, maxAgeMs: 90 * 86_400_000 }, silentLogger);
await spool.open();
process.stdout.write(`opened ${spool.status().pendingSamples}\n`);
for (let i = 1; ; i++) {
  const next = { ...sample(i, new Date()), id: randomUUID() };
  await spool.append([next]);
  process.stdout.write(`${next.id}\n`);
}
