import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { CloudWatch, MetricDatum } from '../../../src/aws/cloudwatch.ts';
import { callsOf, PUT_METRIC_DATA_LIMITS } from '../../../src/control/sinks/cloudwatch/calls.ts';
import { CLOUDWATCH_METRICS, datumsOf } from '../../../src/control/sinks/cloudwatch/metrics.ts';
import { CloudWatchSink, cloudWatchOutcome } from '../../../src/control/sinks/cloudwatch/sink.ts';
import type { InstanceLabels } from '../../../src/control/sinks/instance.ts';
import type { Disk, Sample } from '../../../src/metrics/sample.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { config, OPSWORKS_METRICS, sample } from './fixtures.ts';
import { deliveryOf, fakeImds, INSTANCE_ID, instanceIdentity } from './sink-fixtures.ts';

const INSTANCE: InstanceLabels = { instanceId: INSTANCE_ID, cluster: 'prod', autoScalingGroup: null };
const GIB = 2 ** 30;

function disk(mount: string, usedGib: number, freeGib: number): Disk {
  return {
    mount,
    device: `/dev/${mount.length}`,
    fsType: 'ext4',
    totalBytes: (usedGib + freeGib + 1) * GIB,
    usedBytes: usedGib * GIB,
    freeBytes: freeGib * GIB,
    inodesTotal: 0,
    inodesFree: 0,
  };
}

function hostSample(index: number, extra: Partial<Sample> = {}): Sample {
  return {
    ...sample(index),
    memory: {
      total: 8 * GIB,
      free: 2 * GIB,
      available: 5 * GIB,
      buffers: 2 ** 20,
      cached: 3 * GIB,
      used: 3 * GIB - 2 ** 20,
      swapTotal: GIB,
      swapUsed: 2 ** 20,
    },
    disks: [disk('/', 30, 70), disk('/data', 1, 3)],
    ecs: { agentAnswering: true, cluster: 'prod', containerInstanceArn: 'arn', runningTasks: 4 },
    ...extra,
  };
}

const byName = (datums: readonly MetricDatum[], name: string, mount?: string) =>
  datums.filter(
    (d) =>
      d.MetricName === name &&
      (mount === undefined || d.Dimensions?.some((x) => x.Name === 'MountPath' && x.Value === mount)),
  );

test('a sample as the OpsWorks names, in their units, with InstanceId and ClusterName on every metric', () => {
  const taken = hostSample(1);
  const datums = datumsOf(taken, INSTANCE, { mounts: null });
  for (const name of OPSWORKS_METRICS) assert.equal(byName(datums, name).length, 1, name);
  const one = (name: string, mount?: string) => byName(datums, name, mount)[0] as MetricDatum;
  assert.deepEqual([one('cpu_idle').Value, one('cpu_idle').Unit], [98, 'Percent']);
  assert.deepEqual([one('memory_total').Value, one('memory_total').Unit], [8 * 2 ** 20, 'Kilobytes']);
  assert.deepEqual([one('memory_swap').Value, one('memory_cached').Value], [1024, 3 * 2 ** 20]);
  assert.deepEqual([one('load_1').Value, one('load_1').Unit, one('procs').Unit], [0.1, 'None', 'Count']);
  assert.deepEqual([one('disk_used_percent', '/').Value, one('disk_used_percent', '/').Unit], [30, 'Percent']);
  assert.deepEqual([one('disk_free', '/data').Value, one('disk_free', '/data').Unit], [3 * GIB, 'Bytes']);
  assert.deepEqual(
    [one('docker_store_used_percent').Value, one('docker_store_free').Value],
    [30, 70 * GIB],
    'the store lives on /',
  );
  assert.deepEqual([one('ecs_running_tasks').Value, one('ecs_running_tasks').Unit], [4, 'Count']);
  for (const datum of datums) {
    const names = datum.Dimensions?.map((d) => d.Name);
    assert.deepEqual(names?.slice(0, 2), ['InstanceId', 'ClusterName'], datum.MetricName);
    assert.equal(datum.Dimensions?.[0]?.Value, INSTANCE_ID);
    assert.equal(datum.StorageResolution, 60);
    assert.equal(datum.Timestamp?.toISOString(), taken.time);
  }
  const names = new Set(datums.map((d) => d.MetricName));
  assert.deepEqual(names, new Set(CLOUDWATCH_METRICS.map((m) => m.name)), 'what is sent is what the README lists');
});

test('the Docker store on its own mount; METRICS_CLOUDWATCH_MOUNTS; absent figures are not sent as 0', () => {
  const taken = hostSample(1, {
    disks: [disk('/', 30, 70), disk('/var/lib/docker', 9, 1)],
    ecs: { agentAnswering: false, cluster: null, containerInstanceArn: null, runningTasks: null },
  });
  const datums = datumsOf(taken, INSTANCE, { mounts: ['/var/lib/docker'] });
  assert.equal(byName(datums, 'docker_store_used_percent')[0]?.Value, 90);
  assert.deepEqual(
    byName(datums, 'disk_free').map((d) => d.Dimensions?.at(-1)?.Value),
    ['/var/lib/docker'],
  );
  assert.equal(byName(datums, 'ecs_running_tasks').length, 0);
});

test('AutoScalingGroupName is added when known', () => {
  const datums = datumsOf(hostSample(1), { ...INSTANCE, autoScalingGroup: 'web-asg' }, { mounts: null });
  assert.ok(datums.every((d) => d.Dimensions?.some((x) => x.Name === 'AutoScalingGroupName' && x.Value === 'web-asg')));
});

test('calls keep to 1,000 data points and 1 MB, cut at sample boundaries', () => {
  const perSample = Array.from({ length: 60 }, (_, i) => datumsOf(hostSample(i), INSTANCE, { mounts: null }));
  const count = perSample[0]?.length ?? 0;
  const calls = callsOf(perSample, 'ECSHost');
  assert.ok(calls.every((call) => call.length <= PUT_METRIC_DATA_LIMITS.datums));
  assert.equal(calls.flat().length, count * 60, 'nothing left out');
  assert.equal(calls[0]?.length, Math.floor(1000 / count) * count, 'whole samples per call');
  // Within CloudWatch's own limits (30 dimensions, values up to 1,024 characters) a host with 20 mounts makes a
  // sample of about 1.7 MB: more than one call takes.
  const disks = Array.from({ length: 20 }, (_, k) => disk(`/mnt/${String(k).padStart(1000, 'm')}`, 1, 1));
  const long = (i: number) =>
    datumsOf(hostSample(i, { disks }), INSTANCE, { mounts: null }).map((d) => ({
      ...d,
      Dimensions: [
        ...(d.Dimensions ?? []),
        ...Array.from({ length: 26 }, (_, k) => ({ Name: `D${k}`, Value: 'v'.repeat(1024) })),
      ],
    }));
  const heavy = callsOf([long(1), long(2)], 'ECSHost');
  for (const call of heavy)
    assert.ok(Buffer.byteLength(JSON.stringify({ Namespace: 'ECSHost', MetricData: call })) < 1_048_576);
  assert.ok(heavy.length >= 4, `a sample too large for one call is cut (${heavy.length} calls)`);
  assert.equal(heavy.flat().length, long(1).length * 2);
});

test('a failed PutMetricData: throttling and server errors wait, invalid data is refused, 413 halves', () => {
  const error = (name: string, status?: number) =>
    Object.assign(new Error(`${name} happened`), {
      name,
      ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    });
  assert.equal(cloudWatchOutcome(error('ThrottlingException', 400), 'ECSHost').kind, 'retry');
  assert.match(
    (cloudWatchOutcome(error('Throttling', 400), 'ECSHost') as { reason: string }).reason,
    /throttled: backing off/,
  );
  assert.equal(cloudWatchOutcome(error('InternalServiceError', 500), 'ECSHost').kind, 'retry');
  assert.equal(cloudWatchOutcome(error('InvalidParameterValueException', 400), 'ECSHost').kind, 'rejected');
  assert.equal(cloudWatchOutcome(error('RequestEntityTooLarge', 413), 'ECSHost').kind, 'too-large');
  const denied = cloudWatchOutcome(error('AccessDenied', 403), 'ECSHost');
  assert.equal(denied.kind, 'retry', 'a missing permission keeps the samples until the role is fixed');
  assert.match((denied as { reason: string }).reason, /cloudwatch:PutMetricData for the namespace ECSHost/);
  const network = cloudWatchOutcome(
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    'ECSHost',
  );
  assert.deepEqual([network.kind, (network as { unreachable?: boolean }).unreachable], ['retry', true]);
});

type PutMetricDataInput = Parameters<CloudWatch['putMetricData']>[0];

/** A CloudWatch port that records its calls and answers with what `fail` says. */
function fakeClient() {
  const calls: PutMetricDataInput[] = [];
  const state: { fail: (input: PutMetricDataInput) => Error | null } = { fail: () => null };
  const client: CloudWatch = {
    async putMetricData(input) {
      const failure = state.fail(input);
      if (failure) throw failure;
      calls.push(input);
    },
  };
  return { client, calls, state };
}

function cloudWatch() {
  const host = new FakeHost();
  const imds = fakeImds(host);
  const { identity } = instanceIdentity(host);
  const fake = fakeClient();
  const sink = new CloudWatchSink(host, { namespace: 'ECSHost', mounts: null }, identity, async () => fake.client);
  return { host, imds, sink, ...fake, ...deliveryOf(host, sink) };
}

test('one call per sample; a replay sends whole batches; throttling backs off into the spool', async () => {
  const { take, delivery, calls, state, spool, advance } = cloudWatch();
  await take(1);
  assert.equal((await delivery.round()).delivered, 1);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.Namespace, 'ECSHost');
  state.fail = () =>
    Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
  await take(1);
  const throttled = await delivery.round();
  assert.equal(throttled.state.consecutiveFailures, 1);
  assert.equal(spool.status().pendingSamples, 1);
  await take(30);
  state.fail = () => null;
  advance(10_000);
  assert.equal((await delivery.round()).delivered, 31);
  assert.deepEqual(
    calls.slice(1).map((call) => new Set(call.MetricData?.map((d) => d.Timestamp?.getTime())).size),
    [15, 15, 1],
  );
});

test('a sample older than CloudWatch keeps is refused on its own and counted; the others go', async () => {
  const { take, delivery, spool, calls, advance, host } = cloudWatch();
  await take(3);
  // The first is now past two weeks less an hour (what CloudWatch is trusted to take), the second not yet.
  advance(14 * 86_400_000 - 3_600_000 - 90_000);
  await take(1);
  host.clock = new Date(host.clock.getTime() - 60_000);
  await delivery.round();
  assert.equal(spool.status().rejectedSamples, 1);
  assert.equal(spool.status().pendingSamples, 0);
  assert.equal(new Set(calls.flatMap((c) => c.MetricData?.map((d) => d.Timestamp?.getTime()) ?? [])).size, 3);
});

test('the namespace refuses AWS/ (exit 78 at config load), and the default is ECSHost', () => {
  assert.equal(config().METRICS_CLOUDWATCH_NAMESPACE, 'ECSHost');
  assert.throws(
    () => config({ METRICS_CLOUDWATCH_NAMESPACE: 'AWS/EC2' }),
    (error: unknown) => {
      const { message, exitCode } = error as { message: string; exitCode: number };
      return (
        exitCode === 78 &&
        /METRICS_CLOUDWATCH_NAMESPACE="AWS\/EC2" is one of AWS's own namespaces; allowed: a namespace of your own/.test(
          message,
        )
      );
    },
  );
  assert.throws(() => config({ METRICS_CLOUDWATCH_NAMESPACE: ':x' }), /METRICS_CLOUDWATCH_NAMESPACE/);
  assert.deepEqual(config({ METRICS_CLOUDWATCH_MOUNTS: '/, /data' }).METRICS_CLOUDWATCH_MOUNTS, ['/', '/data']);
});

test('the ASG dimension comes from the instance metadata tag; without it there is none, and a warning', async () => {
  const host = new FakeHost();
  const imds = fakeImds(host, { '/latest/meta-data/tags/instance/aws:autoscaling:groupName': 'web-asg' });
  assert.equal((await instanceIdentity(host, { autoScalingGroup: true }).identity.get()).autoScalingGroup, 'web-asg');
  imds.paths.delete('/latest/meta-data/tags/instance/aws:autoscaling:groupName');
  const { identity, logger } = instanceIdentity(host, { autoScalingGroup: true });
  assert.equal((await identity.get()).autoScalingGroup, null);
  assert.ok(logger.lines.some((line) => /instance metadata tags are off/.test(line)));
});
