/**
 * Child process of the concurrent-writers test: opens the spool in DIR, says
 * "ready", waits for a line on stdin, then appends COUNT items one at a time,
 * all stamped TIME_MS (so two writers pick identical segment names), with ids
 * TAG-1 … TAG-COUNT.
 *
 * Usage: node spool-appender.ts DIR COUNT TIME_MS TAG
 */
import { once } from 'node:events';

import { Spool } from '../../../src/control/spool.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { sample } from '../../unit/control/fixtures.ts';

const [dir = '', count = '0', timeMs = '0', tag = ''] = process.argv.slice(2);
const spool = new Spool(new RealHost('/'), { dir, maxBytes: 2 ** 30, maxAgeMs: 90 * 86_400_000 }, silentLogger);
await spool.open();
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();
for (let i = 1; i <= Number(count); i++)
  await spool.append([{ ...sample(i, new Date(Number(timeMs))), id: `${tag}-${i}` }]);
