import { AgentError } from '../../../core/errors.ts';
import { PATHS } from '../../../core/paths.ts';
import { isContainerInstanceArn } from '../../../ecs-agent/arn.ts';
import type { InstanceRef } from '../../../ecs-agent/drain.ts';
import { readTextIfExists, type Host } from '../../../host/host.ts';

/**
 * The reboot sequence's record on disk, written atomically before each step
 * that changes something outside this host, so that whatever step a crash
 * interrupts, the next start knows what to undo or finish:
 *   acquiring  → a slot may be held (released by instance id)
 *   draining   → the instance may be DRAINING (re-activated if this agent drained it)
 *   rebooting  → the reboot was asked for; a new boot id means it happened
 */
export const SEQUENCE_PHASES = ['acquiring', 'draining', 'rebooting'] as const;
export type SequencePhase = (typeof SEQUENCE_PHASES)[number];

export interface SequenceRecord extends InstanceRef {
  readonly phase: SequencePhase;
  readonly startedAt: string;
  /** The boot the sequence started in (/proc/sys/kernel/random/boot_id). */
  readonly bootId: string;
  /** The slot holder's name: the EC2 instance id. */
  readonly instanceId: string;
  /** The instance was ACTIVE before this agent drained it: only then is it made ACTIVE again. */
  readonly drainedByAgent: boolean;
  readonly reason: string;
  /** Rebooting: the slot's last renewal before the reboot (lock service's clock), to measure the reboot with. */
  readonly slotRenewedAt?: string | null;
}

export const SEQUENCE_RECORD_FILE = `${PATHS.agentState}/reboot-sequence.json`;

export class SequenceRecordError extends AgentError {}

export async function readSequenceRecord(host: Host): Promise<SequenceRecord | null> {
  const text = await readTextIfExists(host, SEQUENCE_RECORD_FILE);
  return text === null ? null : parseRecord(text);
}

export async function writeSequenceRecord(host: Host, record: SequenceRecord): Promise<void> {
  await host.mkdir(PATHS.agentState);
  await host.writeFileAtomic(SEQUENCE_RECORD_FILE, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export async function removeSequenceRecord(host: Host): Promise<void> {
  await host.rm(SEQUENCE_RECORD_FILE);
}

function parseRecord(text: string): SequenceRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('is not JSON');
  }
  if (typeof value !== 'object' || value === null) throw invalid('is not a JSON object');
  const record = value as Record<string, unknown>;
  if (!SEQUENCE_PHASES.includes(record.phase as SequencePhase))
    throw invalid(`has phase ${JSON.stringify(record.phase)}; allowed: ${SEQUENCE_PHASES.join(', ')}`);
  for (const field of ['startedAt', 'bootId', 'instanceId', 'cluster', 'containerInstanceArn', 'reason'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') throw invalid(`has no ${field} string`);
  }
  if (!isContainerInstanceArn(record.containerInstanceArn as string))
    throw invalid('has a containerInstanceArn that is not a container instance ARN');
  if (typeof record.drainedByAgent !== 'boolean') throw invalid('has no drainedByAgent boolean');
  const renewedAt = record.slotRenewedAt ?? null;
  if (renewedAt !== null && (typeof renewedAt !== 'string' || Number.isNaN(Date.parse(renewedAt)))) {
    throw invalid('has a slotRenewedAt that is not a time');
  }
  return record as unknown as SequenceRecord;
}

function invalid(problem: string): SequenceRecordError {
  return new SequenceRecordError(
    `${SEQUENCE_RECORD_FILE} ${problem}; it is written only by the agent: check the instance's ECS ` +
      `status and the reboot slots, then remove the file`,
  );
}
