import type { JsonSchema, JsonType } from './json-schema.ts';
import { EVENT_TYPES, LIMITS, PROTOCOL_VERSION } from './protocol.ts';

/**
 * JSON Schemas of protocol v1, the single source for the reference receiver's
 * validation, the agent's checks of replies and src/control/PROTOCOL.md
 * (a test keeps the document equal to these).
 */
const count: JsonSchema = { type: 'integer', minimum: 0 };
const bytes: JsonSchema = count;
const percent: JsonSchema = { type: 'number', minimum: 0, maximum: 100 };
const text: JsonSchema = { type: 'string', maxLength: 1024 };
const uuid: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' };
const time: JsonSchema = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$' };

function nullable(schema: JsonSchema): JsonSchema {
  const type = schema.type as JsonType;
  return { ...schema, type: [type, 'null'] };
}

/** An object whose listed properties are all required and no others allowed. */
function object(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  };
}

function list(items: JsonSchema, maxItems = 10_000): JsonSchema {
  return { type: 'array', items, maxItems };
}

const cpu = object(
  Object.fromEntries(['user', 'nice', 'system', 'idle', 'waitio', 'steal', 'irq'].map((mode) => [mode, percent])),
);
const load = object({
  load1: { type: 'number', minimum: 0 },
  load5: { type: 'number', minimum: 0 },
  load15: { type: 'number', minimum: 0 },
});
const memory = object(
  Object.fromEntries(
    ['total', 'free', 'available', 'buffers', 'cached', 'used', 'swapTotal', 'swapUsed'].map((name) => [name, bytes]),
  ),
);
const btrfs = object({
  dataTotal: bytes,
  dataUsed: bytes,
  metadataTotal: bytes,
  metadataUsed: bytes,
  deviceBytes: bytes,
  unallocatedBytes: bytes,
});
const disk = object(
  {
    mount: text,
    device: text,
    fsType: text,
    totalBytes: bytes,
    usedBytes: bytes,
    freeBytes: bytes,
    inodesTotal: count,
    inodesFree: count,
    btrfs,
  },
  ['btrfs'],
);
const volume = object({
  mountPoint: text,
  volume: text,
  mounted: { type: 'boolean' },
  device: nullable(text),
  totalBytes: nullable(bytes),
  usedBytes: nullable(bytes),
  freeBytes: nullable(bytes),
});
const networkInterface = object({
  name: text,
  ...Object.fromEntries(
    ['rxBytes', 'rxPackets', 'rxErrors', 'rxDropped', 'txBytes', 'txPackets', 'txErrors', 'txDropped'].map((name) => [
      name,
      count,
    ]),
  ),
});
const container = object({
  id: { type: 'string', pattern: '^[0-9a-f]{12,64}$' },
  name: text,
  image: text,
  taskArn: nullable(text),
  cpuSeconds: { type: 'number', minimum: 0 },
  cpuPercent: { type: ['number', 'null'], minimum: 0 },
  memoryBytes: bytes,
  memoryLimitBytes: bytes,
});
const docker = object({ running: count, containers: list(container) });
const ecs = object({
  agentAnswering: { type: 'boolean' },
  cluster: nullable(text),
  containerInstanceArn: nullable(text),
  runningTasks: nullable(count),
});

export const sampleSchema: JsonSchema = object({
  id: uuid,
  time,
  cpu,
  load,
  memory,
  procs: count,
  disks: list(disk),
  volumes: list(volume, 100),
  network: list(networkInterface),
  docker: { ...docker, type: ['object', 'null'] },
  ecs,
  agent: object({ rssBytes: bytes, cpuSeconds: { type: 'number', minimum: 0 } }),
  errors: list(object({ collector: text, message: { type: 'string', maxLength: 4096 } })),
});

const facts = object({
  os: text,
  kernel: text,
  arch: text,
  cpuModel: text,
  cpuCores: count,
  manufacturer: text,
  product: text,
  gpus: list(text, 64),
});

export const statusSchema: JsonSchema = object({
  agentVersion: text,
  instanceId: nullable({ type: 'string', pattern: '^i-[0-9a-f]{8,17}$' }),
  facts: { ...facts, type: ['object', 'null'] },
  ecs: object({
    configuredCluster: text,
    agentAnswering: { type: 'boolean' },
    cluster: nullable(text),
    containerInstanceArn: nullable(text),
  }),
  concerns: {
    ...list(object({ name: text, ok: { type: 'boolean' }, summary: { type: 'string', maxLength: 4096 } }), 100),
    type: ['array', 'null'],
  },
  pendingUpdates: {
    ...object({ securityUpdates: count, rebootRequired: { type: 'boolean' } }),
    type: ['object', 'null'],
  },
  storage: {
    ...object({
      mode: text,
      mountPoint: text,
      totalBytes: bytes,
      usedBytes: bytes,
      freeBytes: bytes,
      usedPercent: percent,
    }),
    type: ['object', 'null'],
  },
  spool: object({ pendingSamples: count, pendingBytes: bytes, droppedSamples: count, rejectedSamples: count }),
});

const SCHEMA = 'https://json-schema.org/draft/2020-12/schema';
/** What every batch starts with, samples or events. */
const envelope = {
  protocol: { const: PROTOCOL_VERSION },
  batchId: uuid,
  hostId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
  sentAt: time,
} as const satisfies Record<string, JsonSchema>;

export const batchSchema: JsonSchema = {
  $schema: SCHEMA,
  title: 'POST /v1/samples request body',
  ...object({
    ...envelope,
    samples: { ...list(sampleSchema, LIMITS.samplesPerBatch), minItems: 1 },
    status: statusSchema,
  }),
};

export const eventSchema: JsonSchema = object({
  id: uuid,
  type: { enum: EVENT_TYPES },
  time,
  outcome: { type: 'string', pattern: '^[a-z][a-z-]{0,39}$' },
  ok: { type: 'boolean' },
  message: { type: 'string', maxLength: 4096 },
  details: { type: 'object' },
});

export const eventBatchSchema: JsonSchema = {
  $schema: SCHEMA,
  title: 'POST /v1/events request body',
  ...object({ ...envelope, events: { ...list(eventSchema, LIMITS.eventsPerBatch), minItems: 1 } }),
};

export const receiptSchema: JsonSchema = {
  $schema: SCHEMA,
  title: 'POST /v1/samples and POST /v1/events reply body (2xx)',
  ...object({ batchId: uuid, accepted: count, duplicates: count }),
};

/** Endpoints may add properties (their own version …); the agent reads only protocol. */
export const pongSchema: JsonSchema = {
  $schema: SCHEMA,
  title: 'GET /v1/ping reply body (200)',
  type: 'object',
  properties: { protocol: { const: PROTOCOL_VERSION } },
  required: ['protocol'],
};

/** The schemas as PROTOCOL.md shows them, by name. */
export const PROTOCOL_SCHEMAS = {
  batch: batchSchema,
  events: eventBatchSchema,
  receipt: receiptSchema,
  pong: pongSchema,
} as const;
