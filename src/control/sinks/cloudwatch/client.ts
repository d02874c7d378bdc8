import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';

import type { AwsSettings } from '../../../aws/region.ts';

/**
 * The CloudWatch client of the metrics sink. This module is reached only through the sink's dynamic import
 * (sinks/index.ts), so the client (several MB of the daemon's memory) is loaded only when the sink is on.
 * One attempt per call, with timeouts: the sink's delivery backs off into the spool itself, and a call must never
 * hang it. Request compression off: a sample's call is a few KB, below the SDK's 10 KB threshold anyway, and gzip
 * on a replay after an outage costs CPU to save bandwidth the host does not lack.
 */
export function createCloudWatchClient(settings: AwsSettings): CloudWatchClient {
  return new CloudWatchClient({
    region: settings.region,
    maxAttempts: 1,
    disableRequestCompression: true,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
    ...(settings.cloudWatchEndpoint ? { endpoint: settings.cloudWatchEndpoint } : {}),
  });
}

export { PutMetricDataCommand };
