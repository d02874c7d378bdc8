import type { Sample } from '../../metrics/sample.ts';
import type { SpoolStatus } from '../protocol.ts';
import type { SinkOutcome } from '../split-send.ts';

/**
 * Where samples go from the spool: the control endpoint, CloudWatch, a remote-write endpoint, any combination.
 * Each sink that is on has its own delivery (rounds, backoff, status) and its own cursor in the one spool
 * (spool-cursors.ts); a sink only turns a batch of samples into one request and says how it went.
 */
export interface SampleSink {
  /** Its cursor's name and how status calls it: "control", "cloudwatch", "remote-write". */
  readonly name: string;
  /** Where delivery goes, for status: a URL, or CloudWatch's namespace and region. */
  readonly endpoint: string;
  /** The sink in a log line: "control endpoint https://…". */
  readonly label: string;
  /** Samples per request at most: the spool is replayed in batches this large (smaller after a 413). */
  readonly batchSamples: number;
  /** Spool bytes read for one batch at most. */
  readonly batchBytes: number;
  /** What the largest sample the agent makes is called where a 413 for one sample is judged. */
  readonly limitName?: string;
  /** One request; `spool` is what this sink's spool holds (the control protocol reports it). */
  send(samples: readonly Sample[], spool: SpoolStatus): Promise<SinkOutcome>;
  /** After the sink gave no reply at all: a cheap request that tells it answers again (else the backoff runs). */
  probe?(): Promise<Reachability>;
}

export interface Reachability {
  readonly reachable: boolean;
  readonly evidence: string;
}
