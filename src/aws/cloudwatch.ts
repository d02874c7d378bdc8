import type { PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';

import type { Host } from '../host/host.ts';
import { type ClientTuning, onFirstUse } from './clients.ts';
import type { AwsSettings } from './region.ts';

export type { Dimension, MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';

/** The CloudWatch operation the agent calls: the metrics sink's. */
export interface CloudWatch {
  putMetricData(input: PutMetricDataCommandInput): Promise<void>;
}

/** CloudWatch in settings' region, through host; the SDK's CloudWatch client loads at the first call. */
export function createCloudWatch(host: Host, settings: AwsSettings, tuning: ClientTuning): CloudWatch {
  const sdk = onFirstUse(async () => (await import('./cloudwatch-sdk.ts')).sdkCloudWatch(host, settings, tuning));
  return {
    putMetricData: async (input) => (await sdk()).putMetricData(input),
  };
}
