import type { HostFacts } from '../metrics/host-facts.ts';
import type { Sample } from '../metrics/sample.ts';

/**
 * The control protocol, version 1 (src/control/PROTOCOL.md): the agent POSTs
 * batches of samples with the host's status to {CONTROL_URL}/v1/samples and
 * of host events (decommission, reboot) to {CONTROL_URL}/v1/events, GETs its
 * desired users from {CONTROL_URL}/v1/users, and `doctor` GETs /v1/ping.
 */
export const PROTOCOL_VERSION = 1;
export const SAMPLES_PATH = '/v1/samples';
export const EVENTS_PATH = '/v1/events';
export const USERS_PATH = '/v1/users';
export const PING_PATH = '/v1/ping';
/** Request headers besides Authorization. */
export const HEADERS = {
  idempotencyKey: 'idempotency-key',
  hostId: 'x-ecs-host-id',
  identityDocument: 'x-ecs-host-identity-document',
  identitySignature: 'x-ecs-host-identity-pkcs7',
} as const;
/** Limits both sides keep to. */
export const LIMITS = {
  /**
   * The largest sample or event (as JSON) an endpoint must accept, in a batch of its own. A 413 for a batch of
   * one item this size or smaller is a fault of the endpoint (or of a proxy in front of it), never of the item.
   */
  itemBytes: 2 ** 20,
  samplesPerBatch: 500,
  eventsPerBatch: 100,
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

/** What happened to the host as a whole, as opposed to what it measured. */
export const EVENT_TYPES = ['decommission', 'reboot'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface HostEvent {
  /** A UUID made when the event happened: a re-send carries the same id. */
  readonly id: string;
  readonly type: EventType;
  readonly time: string;
  /** A short word an endpoint can branch on ("drained", "rebooted", "failed" …; PROTOCOL.md lists them). */
  readonly outcome: string;
  /** Whether the step reached what it was for; false calls for an operator. */
  readonly ok: boolean;
  /** One line for people. */
  readonly message: string;
  /** The facts behind it (instance, cluster, tasks left …), by type. */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface EventBatch {
  readonly protocol: typeof PROTOCOL_VERSION;
  /** Derived from the event ids, like a samples batch id. */
  readonly batchId: string;
  readonly hostId: string;
  readonly sentAt: string;
  /** Oldest first. */
  readonly events: readonly HostEvent[];
}

/** The reply of GET /v1/ping. */
export interface Pong {
  readonly protocol: typeof PROTOCOL_VERSION;
}
