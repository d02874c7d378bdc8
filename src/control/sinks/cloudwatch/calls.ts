import type { MetricDatum } from '../../../aws/cloudwatch.ts';

/**
 * PutMetricData's limits: at most 1,000 data points per call and a request of at most 1 MB. The data points are
 * cut into calls at sample boundaries (a sample whose points do not fit one call is the only one cut), so that
 * a failed call leaves whole samples to send again. The size is an over-estimate: each point as JSON with its
 * timestamp as an ISO string (the SDK sends epoch seconds, shorter) and the namespace per point.
 */
export const PUT_METRIC_DATA_LIMITS = { datums: 1000, bytes: 1_000_000 } as const;
/** The request's own envelope (Namespace, MetricData, JSON punctuation) with room to spare. */
const ENVELOPE_BYTES = 1024;

/** The data points of consecutive samples (each sample's points together), as calls within the limits. */
export function callsOf(samples: readonly (readonly MetricDatum[])[], namespace: string): MetricDatum[][] {
  const calls: MetricDatum[][] = [];
  let call: MetricDatum[] = [];
  let bytes = ENVELOPE_BYTES;
  const flush = () => {
    if (call.length > 0) calls.push(call);
    call = [];
    bytes = ENVELOPE_BYTES;
  };
  for (const datums of samples) {
    const sampleBytes = datums.reduce((sum, datum) => sum + datumBytes(datum, namespace), 0);
    if (
      call.length + datums.length > PUT_METRIC_DATA_LIMITS.datums ||
      bytes + sampleBytes > PUT_METRIC_DATA_LIMITS.bytes
    )
      flush();
    for (const datum of datums) {
      const size = datumBytes(datum, namespace);
      if (call.length === PUT_METRIC_DATA_LIMITS.datums || bytes + size > PUT_METRIC_DATA_LIMITS.bytes) flush();
      call.push(datum);
      bytes += size;
    }
  }
  flush();
  return calls;
}

function datumBytes(datum: MetricDatum, namespace: string): number {
  return Buffer.byteLength(JSON.stringify(datum)) + Buffer.byteLength(namespace) + 16;
}
