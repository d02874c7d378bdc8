import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type Metric } from '@aws-sdk/client-cloudwatch';

import type { Sample } from '../../../src/metrics/sample.ts';
import { MOTO_REGION } from '../../support/moto.ts';

/** The tests' own SDK client for moto's CloudWatch at endpoint: the agent only ever writes. */
export function cloudWatchReader(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({ region: MOTO_REGION, endpoint });
}

/** What CloudWatch (moto's) holds, read back with the SDK as an operator's dashboard would. */
export async function listMetrics(client: CloudWatchClient, namespace: string): Promise<Metric[]> {
  const metrics: Metric[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListMetricsCommand({ Namespace: namespace, ...(token ? { NextToken: token } : {}) }),
    );
    metrics.push(...(page.Metrics ?? []));
    token = page.NextToken;
  } while (token);
  // moto lists a metric once per data point; CloudWatch once: compare sets.
  return [...new Map(metrics.map((m) => [JSON.stringify(m), m])).values()];
}

/** The data points of one metric from `from` to `to`, oldest first, as GetMetricData returns them. */
export async function points(
  client: CloudWatchClient,
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
  from: Date,
  to: Date,
) {
  const Dimensions = Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value }));
  // Periods counted from a whole minute, as CloudWatch aligns them (moto counts from StartTime).
  const reply = await client.send(
    new GetMetricDataCommand({
      StartTime: new Date(Math.floor(from.getTime() / 60_000) * 60_000 - 120_000),
      EndTime: new Date(to.getTime() + 120_000),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [
        {
          Id: 'm',
          MetricStat: { Metric: { Namespace: namespace, MetricName: name, Dimensions }, Period: 60, Stat: 'Average' },
        },
      ],
    }),
  );
  const result = reply.MetricDataResults?.[0];
  return (result?.Timestamps ?? [])
    .map((time, i) => ({ time: time.getTime(), value: result?.Values?.[i] }))
    .sort((a, b) => a.time - b.time);
}

/** What GetMetricData's 1-minute averages of samples' figure are: a point per minute, oldest first. */
export function minuteAverages(
  samples: readonly Sample[],
  figure: (sample: Sample) => number,
): { time: number; value: number }[] {
  const perMinute = new Map<number, number[]>();
  for (const sample of samples) {
    const minute = Math.floor(Date.parse(sample.time) / 60_000) * 60_000;
    perMinute.set(minute, [...(perMinute.get(minute) ?? []), figure(sample)]);
  }
  return [...perMinute]
    .sort(([a], [b]) => a - b)
    .map(([time, values]) => ({ time, value: values.reduce((sum, v) => sum + v, 0) / values.length }));
}
