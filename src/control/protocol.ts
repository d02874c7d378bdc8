import type { HostFacts } from '../metrics/host-facts.ts';
import type { Sample } from '../metrics/sample.ts';

/**
 * The control protocol, version 1 (src/control/PROTOCOL.md): the agent POSTs
 * batches of samples with the host's status to {CONTROL_URL}/v1/samples and
 * GETs its desired users from {CONTROL_URL}/v1/users.
 */
export const PROTOCOL_VERSION = 1;
export const SAMPLES_PATH = '/v1/samples';
export const USERS_PATH = '/v1/users';
/** Request headers besides Authorization. */
export const HEADERS = {
  idempotencyKey: 'idempotency-key',
  hostId: 'x-ecs-host-id',
  identityDocument: 'x-ecs-host-identity-document',
  identitySignature: 'x-ecs-host-identity-pkcs7',
} as const;
/** Limits both sides keep to. */
export const LIMITS = {
  samplesPerBatch: 500,
  batchBytes: 4 * 2 ** 20,
  replyBytes: 64 * 2 ** 10,
  usersDocumentBytes: 4 * 2 ** 20,
} as const;

export interface ConcernResult {
  readonly name: string;
  readonly ok: boolean;
  readonly summary: string;
}

export interface PendingUpdates {
  readonly securityUpdates: number;
  readonly rebootRequired: boolean;
}

export interface StorageUsage {
  readonly mode: string;
  readonly mountPoint: string;
  readonly totalBytes: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly usedPercent: number;
}

export interface SpoolStatus {
  /** Samples waiting in the spool. */
  readonly pendingSamples: number;
  readonly pendingBytes: number;
  /** Samples dropped for the size or age cap, or found torn, since the spool was created. */
  readonly droppedSamples: number;
  /** Samples the endpoint refused as invalid (HTTP 400/422), since the spool was created. */
  readonly rejectedSamples: number;
}

export interface EcsRegistration {
  readonly configuredCluster: string;
  readonly agentAnswering: boolean;
  readonly cluster: string | null;
  readonly containerInstanceArn: string | null;
}

export interface HostStatus {
  readonly agentVersion: string;
  /** From the signed identity document; null when IMDS is off or unreachable. */
  readonly instanceId: string | null;
  readonly facts: HostFacts | null;
  readonly ecs: EcsRegistration;
  /** Results of the last converge; null when the daemon has not reported any. */
  readonly concerns: readonly ConcernResult[] | null;
  readonly pendingUpdates: PendingUpdates | null;
  /** The Docker store, when STORAGE_MODE manages it. */
  readonly storage: StorageUsage | null;
  readonly spool: SpoolStatus;
}

export interface Batch {
  readonly protocol: typeof PROTOCOL_VERSION;
  /** Derived from the sample ids, so a batch re-sent after a crash has the same id. */
  readonly batchId: string;
  readonly hostId: string;
  readonly sentAt: string;
  /** Oldest first. */
  readonly samples: readonly Sample[];
  readonly status: HostStatus;
}

export interface Receipt {
  readonly batchId: string;
  /** Samples stored by this request. */
  readonly accepted: number;
  /** Samples the endpoint already had (a re-send). */
  readonly duplicates: number;
}
