/**
 * Remote write against a real Prometheus (Debian's, 2.42) receiving on a loopback port: this machine's real
 * samples, through the spool on disk, then read back with PromQL. IMDS is a loopback stand-in; the ECS agent and
 * Docker are dead addresses: nothing leaves loopback.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';

import { prometheusFamilies } from '../../../src/metrics/prometheus.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import { scratchDir } from '../../support/scratch.ts';
import { startImds } from '../doctor/loopback.ts';
import { agentEnv, metricsAgent } from './agent-env.ts';
import { type PrometheusServer, startPrometheus } from './prometheus-server.ts';

const INSTANCE_ID = 'i-0a1b2c3d4e5f60718';

async function agent(t: TestContext, prometheus: PrometheusServer) {
  const dir = scratchDir(t);
  const imds = await startImds(t, { '/latest/meta-data/instance-id': INSTANCE_ID });
  const env = agentEnv(dir, imds.url, { METRICS_REMOTE_WRITE_URL: prometheus.writeUrl });
  return metricsAgent(t, env);
}

const seconds = (sample: Sample) => Date.parse(sample.time) / 1000;

test('after a delivery, PromQL returns the ecs_host_* series with instance_id, cluster, the values', async (t) => {
  const prometheus = await startPrometheus(t);
  const { runner } = await agent(t, prometheus);
  const step = await runner.step();
  assert.equal(step.destination, 'remote-write', step.summary);
  const { sample } = step;
  const at = new Date(sample.time);

  const total = await prometheus.query(
    `ecs_host_memory_bytes{kind="total",instance_id="${INSTANCE_ID}",cluster="prod"}`,
    at,
  );
  assert.equal(total.length, 1);
  assert.equal(Number(total[0]?.value?.[1]), sample.memory.total);
  assert.equal(total[0]?.value?.[0], seconds(sample));

  const idle = await prometheus.query(`ecs_host_cpu_percent{mode="idle",instance_id="${INSTANCE_ID}"}`, at);
  assert.equal(Number(idle[0]?.value?.[1]), sample.cpu.idle);
  assert.deepEqual(Object.keys(idle[0]?.metric ?? {}).sort(), ['__name__', 'cluster', 'instance_id', 'mode']);

  const names = await prometheus.query(`count by (__name__) ({instance_id="${INSTANCE_ID}"})`, at);
  const stored = new Set(names.map((result) => result.metric.__name__));
  assert.deepEqual(
    stored,
    new Set(prometheusFamilies(sample).map((family) => family.name)),
    'every family of the scrape page',
  );
  for (const disk of sample.disks) {
    const avail = await prometheus.query(
      `ecs_host_filesystem_avail_bytes{mountpoint=${JSON.stringify(disk.mount)}}`,
      at,
    );
    assert.equal(Number(avail[0]?.value?.[1]), disk.freeBytes, disk.mount);
  }
});

test('a server that is down: samples wait in the spool, and all arrive, in order, once it is back', async (t) => {
  const prometheus = await startPrometheus(t);
  const { runner, logger, clock } = await agent(t, prometheus);
  const taken: Sample[] = [(await runner.step()).sample];
  await prometheus.stop();
  for (let i = 0; i < 3; i++) {
    clock.advance(1000); // samples a second apart, as series points need distinct timestamps
    const step = await runner.step();
    taken.push(step.sample);
    assert.equal(step.destination, 'spool');
    assert.match(step.summary, /delivery to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write failing .*ECONNREFUSED/);
  }
  assert.ok(
    logger.lines.some((line) =>
      /^warn: remote write endpoint .*: POST failed: .*ECONNREFUSED.*; \d samples? in the spool, kept/.test(line),
    ),
  );
  await prometheus.start();
  clock.advance(1000);
  const last = await runner.step();
  taken.push(last.sample);
  assert.equal(last.destination, 'remote-write', last.summary);

  const points = await prometheus.query(`ecs_host_processes{instance_id="${INSTANCE_ID}",cluster="prod"}[1h]`);
  assert.equal(points.length, 1);
  assert.deepEqual(
    points[0]?.values?.map(([time]) => time),
    taken.map(seconds),
    'every sample, once, in order',
  );
  assert.deepEqual(
    points[0]?.values?.map(([, value]) => Number(value)),
    taken.map((s) => s.procs),
  );
});
