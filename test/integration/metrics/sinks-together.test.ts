/**
 * Every sink on at once, each the real thing on loopback: the control protocol's reference receiver, moto's
 * CloudWatch (behind a relay that takes it away) and Debian's Prometheus receiving remote write. One sink that is
 * down holds back only its own samples: the others get each sample as it is taken, and the one that was down gets
 * them all when it is back. The daemon's metrics job and scheduler run it, with the real delivery loops.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { startScheduler, type TaskRecord } from '../../../src/daemon/scheduler.ts';
import { daemonTasks } from '../../../src/daemon/tasks.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { createMetricsJob } from '../../../src/jobs/metrics.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { MOTO_REGION, startMoto } from '../../support/moto.ts';
import { scratchDir } from '../../support/scratch.ts';
import { FACTS } from '../../unit/control/fixtures.ts';
import { pollUntil } from '../../support/poll.ts';
import { ManualClock } from '../../unit/metrics/manual-clock.ts';
import { startEndpoint } from '../control/receiver-server.ts';
import { startImds } from '../doctor/loopback.ts';
import { agentEnv } from './agent-env.ts';
import { cloudWatchReader, minuteAverages, points } from './cloudwatch-reader.ts';
import { startPrometheus } from './prometheus-server.ts';
import { relay } from './tcp-relay.ts';

const INSTANCE_ID = 'i-00112233445566778';

test('control, CloudWatch and remote write together: CloudWatch down holds back only its own samples', async (t) => {
  const dir = scratchDir(t);
  const [control, moto, prometheus, imds] = await Promise.all([
    startEndpoint(),
    startMoto(),
    startPrometheus(t),
    startImds(t, { '/latest/meta-data/instance-id': INSTANCE_ID }),
  ]);
  t.after(() => control.stop());
  t.after(() => moto.stop());
  const cloudwatch = await relay(t, moto.endpoint);
  const env = agentEnv(dir, imds.url, {
    CONTROL_URL: control.url,
    METRICS_CLOUDWATCH: 'yes',
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
    AWS_REGION: MOTO_REGION,
    METRICS_REMOTE_WRITE_URL: prometheus.writeUrl,
    CONVERGE_INTERVAL: 'off',
  });
  const host = new RealHost('/');
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  const context = { host, config, os: {} as OsFacts, logger: silentLogger, resetAgentState: false };
  const clock = new ManualClock();
  const job = createMetricsJob({ clock, hostFacts: FACTS, backoff: { baseMs: 1, maxMs: 1, probeMs: 1 } });
  const records: TaskRecord[] = [];
  const stop = new AbortController();
  // random 0: the schedule's offset is 0, so the runs fall on whole intervals.
  const running = startScheduler(
    daemonTasks(async () => context, context, [job]),
    {
      clock,
      random: () => 0,
      signal: stop.signal,
      finished: (record: TaskRecord) => void records.push(record),
    },
  ).done;
  t.after(async () => {
    stop.abort();
    await running;
  });
  const sampleNow = async () => {
    const count = records.length;
    if (count > 0) clock.advance(60_000);
    await pollUntil(() => records.length > count, 'the next metrics run');
  };
  const procs = async () =>
    (await prometheus.query(`ecs_host_processes{instance_id="${INSTANCE_ID}"}[1h]`))[0]?.values?.length ?? 0;

  await cloudwatch.down();
  for (let i = 1; i <= 3; i++) {
    await sampleNow();
    await pollUntil(() => control.received.length === i, `sample ${i} at the control endpoint`, 10_000);
    await pollUntil(async () => (await procs()) === i, `sample ${i} in Prometheus`);
  }

  const cursors = (sink: string) =>
    JSON.parse(readFileSync(join(dir, 'spool', 'sinks', `${sink}.json`), 'utf8')) as { sequence: number };
  // A cursor is written once the sink's reply is in: just after the receivers have the sample.
  await pollUntil(
    () => cursors('control').sequence === 3 && cursors('remote-write').sequence === 3,
    'the working sinks to move on',
  );
  const spooled = readdirSync(join(dir, 'spool')).filter((name) => name.endsWith('.seg'));
  assert.equal(spooled.length, 3, 'the spool keeps what CloudWatch has not had');
  assert.equal(cursors('cloudwatch').sequence, 0);

  await cloudwatch.up();
  await sampleNow();
  const reader = cloudWatchReader(moto.endpoint);
  t.after(() => reader.destroy());
  const segments = () => readdirSync(join(dir, 'spool')).filter((name) => name.endsWith('.seg')).length;
  await pollUntil(
    () => control.received.length === 4 && segments() === 0,
    'CloudWatch to catch up (the spool to empty)',
    20_000,
  );
  const all = control.received;
  const first = new Date(all[0]?.time ?? '');
  const last = new Date(all.at(-1)?.time ?? '');
  const inCloudWatch = await points(
    reader,
    'ECSHost',
    'procs',
    { InstanceId: INSTANCE_ID, ClusterName: 'prod' },
    first,
    last,
  );
  assert.deepEqual(
    inCloudWatch,
    minuteAverages(all, (sample) => sample.procs),
    'CloudWatch got all four samples',
  );
  assert.equal(await procs(), 4);
  assert.equal(control.receiver.counts.duplicates, 0, 'the control endpoint got no sample twice');
});
