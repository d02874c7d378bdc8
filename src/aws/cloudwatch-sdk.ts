import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';

import type { Host } from '../host/host.ts';
import { type ClientTuning, sdkClientConfig } from './clients.ts';
import type { CloudWatch } from './cloudwatch.ts';
import type { AwsSettings } from './region.ts';

/**
 * The CloudWatch port on the SDK's client; reached only by cloudwatch.ts's dynamic import. Request compression
 * off: a sample's call is a few KB, below the SDK's 10 KB threshold anyway, and gzip on a replay after an outage
 * costs CPU to save bandwidth the host does not lack.
 */
export function sdkCloudWatch(host: Host, settings: AwsSettings, tuning: ClientTuning): CloudWatch {
  const config = sdkClientConfig(host, settings.region, settings.cloudWatchEndpoint, tuning);
  const client = new CloudWatchClient({ ...config, disableRequestCompression: true });
  return {
    async putMetricData(input) {
      await client.send(new PutMetricDataCommand(input));
    },
  };
}
