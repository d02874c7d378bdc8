import type { Host } from '../../host/host.ts';
import type { Sample } from '../../metrics/sample.ts';
import type { ControlClient } from '../client.ts';
import { batchIdOf } from '../delivery.ts';
import { type Batch, type HostStatus, LIMITS, PROTOCOL_VERSION, type SpoolStatus } from '../protocol.ts';
import type { SampleSink } from './sink.ts';

/** The control endpoint (CONTROL_URL) as a sink: samples in protocol v1 batches, with the host's status. */
export interface ControlSinkOptions {
  readonly client: ControlClient;
  readonly hostId: string;
  readonly status: (spool: SpoolStatus) => Promise<HostStatus>;
}

/** Replayed batches stay well below what the endpoint must accept. */
const REPLAY_BYTES = LIMITS.batchBytes / 4;

export function controlSink(host: Host, { client, hostId, status }: ControlSinkOptions): SampleSink {
  const batch = (samples: readonly Sample[], hostStatus: HostStatus): Batch => ({
    protocol: PROTOCOL_VERSION,
    batchId: batchIdOf(samples),
    hostId,
    sentAt: host.now().toISOString(),
    samples,
    status: hostStatus,
  });
  return {
    name: 'control',
    endpoint: client.url,
    label: `control endpoint ${client.url}`,
    batchSamples: LIMITS.samplesPerBatch,
    batchBytes: REPLAY_BYTES,
    send: async (samples, spool) => client.send(batch(samples, await status(spool))),
    probe: () => client.probe(),
  };
}
