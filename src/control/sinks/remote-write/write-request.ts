import protobuf from 'protobufjs/light.js';
import { compress } from 'snappyjs';

import { type Labels, prometheusFamilies } from '../../../metrics/prometheus.ts';
import type { Sample } from '../../../metrics/sample.ts';

/**
 * Samples as a Prometheus remote write 1.0 request body: a `prometheus.WriteRequest` (prompb, as Prometheus'
 * remote.proto and types.proto define it), protobuf-encoded by protobufjs from the descriptor below (no
 * generated code), then compressed with snappy's block format. The series are the `ecs_host_*` families of the
 * scrape page (prometheus.ts), each with the labels the page has plus the instance's. Exemplars, histograms and
 * metadata are not sent: a host sample has no exemplars or histograms, and metadata is optional for receivers.
 */
export const PROMPB_DESCRIPTOR = {
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
};

export interface Label {
  readonly name: string;
  readonly value: string;
}

export interface TimeSeries {
  /** Sorted by name, `__name__` among them: the spec asks for sorted labels. */
  readonly labels: readonly Label[];
  /** Oldest first; timestamps in milliseconds since the epoch. */
  readonly samples: { readonly value: number; readonly timestamp: number }[];
}

let writeRequest: protobuf.Type | null = null;

export function writeRequestType(): protobuf.Type {
  writeRequest ??= protobuf.Root.fromJSON(PROMPB_DESCRIPTOR).lookupType('prometheus.WriteRequest');
  return writeRequest;
}

/** One series per family and label set, holding every sample's value of it in the samples' order. */
export function seriesOf(samples: readonly Sample[], instance: Labels): TimeSeries[] {
  const series = new Map<string, TimeSeries>();
  for (const sample of samples) {
    const timestamp = Date.parse(sample.time);
    for (const family of prometheusFamilies(sample)) {
      for (const [labels, value] of family.points) {
        const all = sortedLabels({ ...labels, ...instance, __name__: family.name });
        const key = all.map(({ name, value: text }) => `${name}\u0000${text}`).join('\u0000');
        let entry = series.get(key);
        if (entry === undefined) {
          entry = { labels: all, samples: [] };
          series.set(key, entry);
        }
        entry.samples.push({ value, timestamp });
      }
    }
  }
  return [...series.values()];
}

function sortedLabels(labels: Labels): Label[] {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
}

/** The request body: the encoded WriteRequest, snappy-compressed (block format, not the framed one). */
export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  return compress(writeRequestType().encode({ timeseries: series }).finish());
}
