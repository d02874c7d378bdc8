/**
 * `npm run bench` (daemon): the packaged daemon's steady cost. The bundle runs
 * `ecs-host-agent run` for BENCH_SECONDS (default 300, at least 5 minutes as
 * issue 7 asks) with the default metrics interval; RSS and CPU are read from
 * /proc every 10 s after a 30 s warm-up, and CPU is scaled to an hour.
 *
 * Converge, updates and the spot-interruption watch are off: this machine must
 * not be changed and must not reach IMDS. They run every 30 min and 1 h on a
 * host, so the steady figures are the metrics job's and the daemon's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { PACKAGE_JSON } from '../../packaging/build/project.ts';
import { STATUS_FILE } from '../../src/daemon/status-file.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 300);
/** The V8 flags packaging/wrapper.sh gives the packaged daemon, read from it so the two cannot drift. */
const WRAPPER_FLAGS = /NODE_OPTIONS="([^"$]*)/.exec(readFileSync(new URL('../../packaging/wrapper.sh', import.meta.url), 'utf8'))?.[1]?.trim() ?? '';
const WARM_UP_S = 30;
const PROBE_EVERY_S = 10;
const TICKS_PER_S = 100;

interface Probe {
  readonly atS: number;
  readonly cpuS: number;
  readonly rssMb: number;
}

function probe(pid: number, startedMs: number): Probe {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the command name.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return { atS: (Date.now() - startedMs) / 1000, cpuS: ticks / TICKS_PER_S, rssMb: rssKb / 1024 };
}

const work = mkdtempSync(join(tmpdir(), 'eha-bench-daemon-'));
const previousStatus = existsSync(STATUS_FILE) ? readFileSync(STATUS_FILE) : null;
let daemon: ChildProcess | undefined;
try {
  const bundle = (await bundleAgent(`${work}/bundle`, PACKAGE_JSON.version)).entry;
  writeFileSync(
    `${work}/agent.env`,
    `CONVERGE_INTERVAL=off\nUPDATES_CHECK_INTERVAL=off\nSPOT_INTERRUPTION_DRAIN=no\nMETRICS_SINK_FILE=${work}/metrics.ndjson\nSPOOL_DIR=${work}/spool\n`,
  );
  const started = Date.now();
  daemon = spawn(process.execPath, [bundle, 'run', '--config', `${work}/agent.env`], { stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: WRAPPER_FLAGS } });
  const pid = daemon.pid as number;
  console.log(`daemon (bundle, node ${process.versions.node}, ${WRAPPER_FLAGS || 'no V8 flags'}) for ${SECONDS} s, metrics every 60 s; probes every ${PROBE_EVERY_S} s after ${WARM_UP_S} s`);
  await delay(WARM_UP_S * 1000);
  const probes: Probe[] = [probe(pid, started)];
  while (probes.at(-1)!.atS < SECONDS) {
    await delay(PROBE_EVERY_S * 1000);
    probes.push(probe(pid, started));
  }
  const first = probes[0] as Probe;
  const last = probes.at(-1) as Probe;
  const cpuPerHour = ((last.cpuS - first.cpuS) / (last.atS - first.atS)) * 3600;
  const rss = probes.map((p) => p.rssMb);
  console.log(`RSS MB: start ${first.rssMb.toFixed(1)}, end ${last.rssMb.toFixed(1)}, min ${Math.min(...rss).toFixed(1)}, max ${Math.max(...rss).toFixed(1)}`);
  console.log(`CPU: ${cpuPerHour.toFixed(2)} s per hour (${((cpuPerHour / 3600) * 100).toFixed(3)} % of one core), own plus reaped children`);
  console.log(`samples written: ${readFileSync(`${work}/metrics.ndjson`, 'utf8').trim().split('\n').length}`);
} finally {
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
  }
  if (previousStatus) writeFileSync(STATUS_FILE, previousStatus);
  else rmSync(STATUS_FILE, { force: true });
  rmSync(work, { recursive: true, force: true });
}
