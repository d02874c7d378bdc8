/**
 * The CloudWatch sink against moto_server's CloudWatch on loopback: this machine's real samples, through the spool
 * on disk, PutMetricData by the real SDK client, read back with ListMetrics and GetMetricData. A TCP relay in front
 * of moto takes the endpoint away and brings it back. IMDS is a loopback stand-in; credentials are moto's fakes.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';

import type { Sample } from '../../../src/metrics/sample.ts';
import { MOTO_REGION, startMoto } from '../../support/moto.ts';
import { scratchDir } from '../../support/scratch.ts';
import { OPSWORKS_METRICS } from '../../unit/control/fixtures.ts';
import { startImds } from '../doctor/loopback.ts';
import { agentEnv, metricsAgent } from './agent-env.ts';
import { cloudWatchReader, listMetrics, minuteAverages, points } from './cloudwatch-reader.ts';
import { relay } from './tcp-relay.ts';

const INSTANCE_ID = 'i-0fedcba9876543210';
async function agent(t: TestContext, endpoint: string, extra: Record<string, string> = {}) {
  const dir = scratchDir(t);
  const imds = await startImds(t, {
    '/latest/meta-data/instance-id': INSTANCE_ID,
    '/latest/meta-data/tags/instance/aws:autoscaling:groupName': 'web-asg',
  });
  const env = agentEnv(dir, imds.url, {
    METRICS_CLOUDWATCH: 'yes',
    AWS_ENDPOINT_URL_CLOUDWATCH: endpoint,
    AWS_REGION: MOTO_REGION,
    ...extra,
  });
  return metricsAgent(t, env);
}

const dims = { InstanceId: INSTANCE_ID, ClusterName: 'prod' };

test('one sample: ListMetrics has the OpsWorks names, InstanceId, ClusterName; GetMetricData its values', async (t) => {
  const moto = await startMoto();
  t.after(() => moto.stop());
  const { runner } = await agent(t, moto.endpoint);
  const step = await runner.step();
  assert.equal(step.destination, 'cloudwatch', step.summary);
  const { sample } = step;
  const client = cloudWatchReader(moto.endpoint);
  t.after(() => client.destroy());

  const metrics = await listMetrics(client, 'ECSHost');
  const names = new Set(metrics.map((m) => m.MetricName));
  for (const name of [...OPSWORKS_METRICS, 'disk_used_percent', 'disk_free'])
    assert.ok(names.has(name), `${name} in ${[...names].join(' ')}`);
  for (const metric of metrics) {
    const dimensions = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
    assert.equal(dimensions.InstanceId, INSTANCE_ID, metric.MetricName);
    assert.equal(dimensions.ClusterName, 'prod', metric.MetricName);
    assert.equal(dimensions.AutoScalingGroupName, undefined, 'not asked for');
  }
  const mounts = metrics
    .filter((m) => m.MetricName === 'disk_free')
    .map((m) => m.Dimensions?.find((d) => d.Name === 'MountPath')?.Value);
  assert.deepEqual(new Set(mounts), new Set(sample.disks.map((d) => d.mount)));

  const at = new Date(sample.time);
  const one = async (name: string, extra: Record<string, string> = {}) =>
    (await points(client, 'ECSHost', name, { ...dims, ...extra }, at, at)).map((p) => p.value);
  assert.deepEqual(await one('cpu_idle'), [sample.cpu.idle]);
  assert.deepEqual(await one('cpu_waitio'), [sample.cpu.waitio]);
  assert.deepEqual(await one('memory_total'), [Math.round(sample.memory.total / 1024)], 'kilobytes, as OpsWorks');
  assert.deepEqual(await one('memory_used'), [Math.round(sample.memory.used / 1024)]);
  assert.deepEqual(await one('load_1'), [sample.load.load1]);
  assert.deepEqual(await one('procs'), [sample.procs]);
  const root = sample.disks.find((d) => d.mount === '/') ?? sample.disks[0];
  assert.ok(root, 'this machine has a real mount');
  assert.deepEqual(await one('disk_free', { MountPath: root.mount }), [root.freeBytes]);
  assert.deepEqual(await one('disk_used_percent', { MountPath: root.mount }), [
    Math.round((root.usedBytes / (root.usedBytes + root.freeBytes)) * 1000) / 10,
  ]);
});

test('an unreachable endpoint: samples wait in the spool and are all delivered when it answers again', async (t) => {
  const moto = await startMoto();
  t.after(() => moto.stop());
  const front = await relay(t, moto.endpoint);
  const { runner, logger, clock } = await agent(t, front.url, { METRICS_CLOUDWATCH_ASG_DIMENSION: 'yes' });
  await front.down();
  const taken: Sample[] = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) clock.advance(1000); // distinct timestamps, a second apart
    const step = await runner.step();
    taken.push(step.sample);
    assert.equal(step.destination, 'spool');
    assert.match(step.summary, /delivery to CloudWatch namespace ECSHost failing .*PutMetricData failed/);
  }
  assert.ok(
    logger.lines.some((line) =>
      /^warn: CloudWatch endpoint for namespace ECSHost: PutMetricData failed: .*ECONNREFUSED.*in the spool, kept/.test(
        line,
      ),
    ),
  );
  await front.up();
  clock.advance(1000);
  const last = await runner.step();
  taken.push(last.sample);
  assert.equal(last.destination, 'cloudwatch', last.summary);

  const client = cloudWatchReader(moto.endpoint);
  t.after(() => client.destroy());
  const withAsg = { ...dims, AutoScalingGroupName: 'web-asg' };
  const procs = await points(
    client,
    'ECSHost',
    'procs',
    withAsg,
    new Date(taken[0]?.time ?? ''),
    new Date(taken.at(-1)?.time ?? ''),
  );
  assert.deepEqual(
    procs,
    minuteAverages(taken, (sample) => sample.procs),
    'every sample arrived, with the ASG dimension',
  );
});
