import type { Ecs } from '../../../aws/ecs.ts';
import type { FleetLock, Lease, SlotClaim } from '../../../aws/fleet-lock.ts';
import { formatDuration } from '../../../core/config/values.ts';
import { AgentError, messageOf } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import {
  describeInstance,
  describeRemaining,
  DRAIN_POLL_INTERVAL_MS,
  type DrainOutcome,
  type InstanceRef,
  setInstanceStatus,
  type TaskOnInstance,
  waitUntilDrained,
} from '../../../ecs-agent/drain.ts';
import { pollAgentMetadata } from '../../../ecs-agent/introspection.ts';
import type { Host } from '../../../host/host.ts';
import type { UpdateSettings } from '../settings.ts';
import { isInsideWindow } from '../window.ts';
import { readSequenceRecord, removeSequenceRecord, type SequenceRecord, writeSequenceRecord } from './record.ts';
import { SlotKeeper } from './slot-keeper.ts';

/**
 * The reboot sequence: inside the window, take a fleet slot, drain the
 * container instance, reboot; after the boot, wait for the ECS agent, make
 * the instance ACTIVE again (only if this agent drained it) and give the slot
 * back. Every step is recorded on disk first, so a crash anywhere is finished
 * (the reboot happened) or rolled back (it did not) on the next start.
 */
export interface Identity extends InstanceRef {
  readonly instanceId: string;
}

export const SEQUENCE_STEPS = [
  'recorded',
  'slot-acquired',
  'drain-recorded',
  'draining',
  'drained',
  'reboot-recorded',
  'reboot-issued',
  'activated',
] as const;
export type SequenceStep = (typeof SEQUENCE_STEPS)[number];

export interface SequenceDeps {
  readonly host: Host;
  readonly logger: Logger;
  readonly ecs: Ecs;
  readonly lock: FleetLock;
  readonly settings: UpdateSettings;
  /** This host as ECS (introspection) and EC2 (IMDS) know it. */
  identity(): Promise<Identity>;
  /** `systemctl reboot` on a host; tests inject a simulated reboot. */
  reboot(): Promise<void>;
  /** Called after each step; tests end the process here to prove every crash point recovers. */
  checkpoint?(step: SequenceStep): Promise<void>;
  /**
   * Tells the control endpoint how a started sequence ended (not when it never started: outside the window, no slot).
   */
  report?(report: SequenceReport): Promise<void>;
  readonly pollIntervalMs?: number;
}

export type OutcomeKind =
  | 'outside-window'
  | 'slot-busy'
  | 'drain-timeout'
  | 'window-closed'
  | 'slot-lost'
  | 'rebooting'
  | 'rebooted'
  | 'rolled-back';

export interface SequenceOutcome {
  readonly outcome: OutcomeKind;
  readonly message: string;
  /** Tasks left when a drain timed out. */
  readonly remainingTasks?: readonly TaskOnInstance[];
}

/** A sequence that ended: rebooted, postponed, rolled back, or failed with an error. */
export interface SequenceReport {
  readonly outcome: OutcomeKind | 'failed';
  readonly message: string;
  readonly record: SequenceRecord;
  readonly remainingTasks?: readonly TaskOnInstance[];
}

export class SequenceError extends AgentError {}

const BOOT_ID = '/proc/sys/kernel/random/boot_id';

export async function runRebootSequence(deps: SequenceDeps, reason: string): Promise<SequenceOutcome> {
  const { host, settings } = deps;
  if ((await readSequenceRecord(host)) !== null)
    throw new SequenceError('a reboot sequence is already recorded: it is resumed (or rolled back) first');
  if (!insideWindow(deps))
    return {
      outcome: 'outside-window',
      message: `a reboot is due (${reason}); waiting for the window ${windowText(settings)}`,
    };
  let record: SequenceRecord = {
    phase: 'acquiring',
    startedAt: host.now().toISOString(),
    bootId: await currentBootId(host),
    ...(await deps.identity()),
    drainedByAgent: false,
    reason,
  };
  await writeSequenceRecord(host, record);
  await step(deps, 'recorded');
  try {
    const taken = await deps.lock.acquire(record.instanceId);
    await step(deps, 'slot-acquired');
    if (!taken.acquired) {
      await removeSequenceRecord(host);
      const all = `all ${settings.maxConcurrentReboots} reboot slot(s) of cluster "${settings.cluster}" are taken`;
      return { outcome: 'slot-busy', message: `${all} (${holdersText(taken.holders)}); trying again later` };
    }
    const { claim } = taken.lease;
    const expiry = `it expires at ${claim.expiresAt} unrenewed`;
    const parameter = claim.parameter;
    deps.logger.info(`reboot slot ${claim.slot} taken; renewed while this host works, ${expiry}`, { parameter });
    const keeper = new SlotKeeper(deps.lock, record.instanceId, taken.lease, deps.logger);
    const before = await describeInstance(deps.ecs, record);
    record = { ...record, phase: 'draining', drainedByAgent: before.status === 'ACTIVE' };
    await writeSequenceRecord(host, record);
    await step(deps, 'drain-recorded');
    if (record.drainedByAgent) await setInstanceStatus(deps.ecs, record, 'DRAINING');
    else
      deps.logger.warn(
        `container instance is ${before.status}, not ACTIVE: draining it anyway, ` +
          `and it is not made ACTIVE after the reboot`,
      );
    await step(deps, 'draining');
    const drain = await drainKeepingSlot(deps, record, keeper);
    await step(deps, 'drained');
    if (drain === 'slot-lost') return await rollBack(deps, record, slotLost('while draining'));
    if (!drain.drained) {
      const detail = describeRemaining(drain, settings.drainTimeoutMs);
      if (settings.drainTimeoutPolicy === 'abort') {
        return await rollBack(deps, record, {
          outcome: 'drain-timeout',
          message: `drain timed out, reboot aborted (DRAIN_TIMEOUT_POLICY=abort): ${detail}`,
          remainingTasks: drain.remaining,
        });
      }
      deps.logger.warn(`drain timed out; rebooting anyway (DRAIN_TIMEOUT_POLICY=reboot): ${detail}`);
    }
    if (!insideWindow(deps))
      return await rollBack(deps, record, {
        outcome: 'window-closed',
        message: `the window ${windowText(settings)} closed while draining; reboot postponed`,
      });
    // Renewed last thing before the reboot, so the claim outlasts the reboot by as much as it can.
    if ((await keeper.renew()) === 'lost' || keeper.remainingMs() <= settings.rebootTimeoutMs) {
      return await rollBack(deps, record, slotLost('before the reboot'));
    }
    record = { ...record, phase: 'rebooting', slotRenewedAt: keeper.claim?.renewedAt ?? null };
    await writeSequenceRecord(host, record);
    await step(deps, 'reboot-recorded');
    deps.logger.warn(`rebooting: ${reason}`);
    await deps.reboot();
    await step(deps, 'reboot-issued');
    return {
      outcome: 'rebooting',
      message: `rebooting (${reason}); the agent re-activates the instance when it is back`,
    };
  } catch (error) {
    await undo(deps, record).catch((rollBackError: unknown) =>
      deps.logger.error(
        `rolling back the reboot sequence failed; the next start tries again: ${messageOf(rollBackError)}`,
      ),
    );
    await report(deps, record, { outcome: 'failed', message: messageOf(error) });
    throw error;
  }
}

/**
 * On every start: finishes a sequence whose reboot happened (the boot id
 * changed), or rolls back one that was interrupted before it. Null when no
 * sequence is recorded.
 */
export async function resumeRebootSequence(deps: SequenceDeps): Promise<SequenceOutcome | null> {
  const { host } = deps;
  const record = await readSequenceRecord(host);
  if (record === null) return null;
  if (record.phase !== 'rebooting' || (await currentBootId(host)) === record.bootId) {
    return rollBack(deps, record, {
      outcome: 'rolled-back',
      message:
        `a reboot sequence interrupted while ${record.phase} was rolled ` +
        `back${record.drainedByAgent ? ' (instance ACTIVE again)' : ''}, slot released`,
    });
  }
  try {
    const keeper = await renewAfterBoot(deps, record);
    await waitForAgent(deps, record, keeper);
    if (record.drainedByAgent) await setInstanceStatus(deps.ecs, record, 'ACTIVE');
    await step(deps, 'activated');
    await deps.lock.release(record.instanceId);
    await removeSequenceRecord(host);
  } catch (error) {
    await report(deps, record, { outcome: 'failed', message: messageOf(error) });
    throw error;
  }
  const outcome: SequenceOutcome = {
    outcome: 'rebooted',
    message:
      `rebooted for ${record.reason}; ` +
      `${record.drainedByAgent ? 'instance ACTIVE again' : 'instance left as the operator had it'}, slot released`,
  };
  await report(deps, record, outcome);
  return outcome;
}

async function rollBack(
  deps: SequenceDeps,
  record: SequenceRecord,
  outcome: SequenceOutcome,
): Promise<SequenceOutcome> {
  await undo(deps, record);
  deps.logger.warn(outcome.message);
  await report(deps, record, outcome);
  return outcome;
}

/** Reporting is worth a try, but an endpoint that is down must never change what the sequence does. */
async function report(
  deps: SequenceDeps,
  record: SequenceRecord,
  outcome: Omit<SequenceReport, 'record'>,
): Promise<void> {
  try {
    await deps.report?.({ ...outcome, record });
  } catch (error) {
    deps.logger.warn(`the reboot sequence's outcome (${outcome.outcome}) was not reported: ${messageOf(error)}`);
  }
}

/** In this order, so that a crash in between leaves the record to try again. */
async function undo(deps: SequenceDeps, record: SequenceRecord): Promise<void> {
  if (record.drainedByAgent) await setInstanceStatus(deps.ecs, record, 'ACTIVE');
  await deps.lock.release(record.instanceId);
  await removeSequenceRecord(deps.host);
}

function holdersText(holders: readonly SlotClaim[]): string {
  return holders.map((claim) => `slot ${claim.slot}: ${claim.holder ?? '?'} until ${claim.expiresAt}`).join(', ');
}

function slotLost(when: string): SequenceOutcome {
  return {
    outcome: 'slot-lost',
    message: `the reboot slot could not be renewed ${when} (it ran out, or another host took it); reboot postponed`,
  };
}

/** Drains, renewing the slot between polls; 'slot-lost' when it could not be kept. */
async function drainKeepingSlot(
  deps: SequenceDeps,
  record: SequenceRecord,
  keeper: SlotKeeper,
): Promise<DrainOutcome | 'slot-lost'> {
  // Told apart by identity: the one error that ends this drain from inside its polling loop.
  const lost = new Error();
  const betweenPolls = async () => {
    if ((await keeper.renewIfDue()) === 'lost') throw lost;
  };
  const pollIntervalMs = deps.pollIntervalMs ?? DRAIN_POLL_INTERVAL_MS;
  const wait = { timeoutMs: deps.settings.drainTimeoutMs, pollIntervalMs, betweenPolls };
  try {
    return await waitUntilDrained(deps.ecs, deps.host, record, wait);
  } catch (error) {
    if (error === lost) return 'slot-lost';
    throw error;
  }
}

/**
 * The claim renewed before the reboot should still be this host's: renewing
 * it now measures the reboot on the lock service's clock. If it was lost, the
 * reboot took longer than the slot lasts and another host may have rebooted
 * alongside: that is reported, and the instance is brought back regardless.
 */
async function renewAfterBoot(deps: SequenceDeps, record: SequenceRecord): Promise<SlotKeeper | null> {
  const { logger, settings } = deps;
  let lease: Lease | null;
  try {
    lease = await deps.lock.renew(record.instanceId);
  } catch (error) {
    logger.warn(`the reboot slot could not be renewed after the boot; bringing the instance back: ${messageOf(error)}`);
    return null;
  }
  if (lease === null) {
    logger.error(
      'the reboot slot was lost during the reboot: another host may have rebooted alongside this one; ' +
        `raise REBOOT_TIMEOUT (${formatDuration(settings.rebootTimeoutMs)}) ` +
        `and REBOOT_LOCK_TTL (${formatDuration(settings.lockTtlMs)}) to cover the reboot`,
    );
    return null;
  }
  if (record.slotRenewedAt) reportDowntime(deps, Date.parse(lease.claim.renewedAt) - Date.parse(record.slotRenewedAt));
  return new SlotKeeper(deps.lock, record.instanceId, lease, logger);
}

/** From the renewal before the reboot to the one after it, both stamped by the lock service. */
function reportDowntime(deps: SequenceDeps, downMs: number): void {
  const seconds = Math.round(downMs / 1000);
  const text = `the reboot slot was renewed ${seconds} s after its renewal before the reboot (lock service's clock)`;
  const limit = deps.settings.rebootTimeoutMs;
  if (downMs <= limit) deps.logger.info(text);
  else deps.logger.warn(`${text}: longer than REBOOT_TIMEOUT=${formatDuration(limit)}; raise it and REBOOT_LOCK_TTL`);
}

/** The agent answers for this instance and ECS sees it connected: tasks may be placed again. The slot is kept. */
async function waitForAgent(deps: SequenceDeps, record: SequenceRecord, keeper: SlotKeeper | null): Promise<void> {
  const { host, settings } = deps;
  const deadline = host.now().getTime() + settings.agentReconnectTimeoutMs;
  for (;;) {
    await keeper?.renewIfDue();
    const poll = await pollAgentMetadata(host, settings.introspectionUrl);
    const answered = poll.answered && poll.metadata.containerInstanceArn === record.containerInstanceArn;
    if (answered && (await describeInstance(deps.ecs, record)).agentConnected) return;
    if (host.now().getTime() >= deadline) {
      throw new SequenceError(
        `after the reboot the ECS agent did not reconnect within ` +
          `${formatDuration(settings.agentReconnectTimeoutMs)}: ` +
          'the instance stays DRAINING and its reboot slot held; the next run tries again (check ' +
          '"systemctl status ecs")',
      );
    }
    await host.sleep(deps.pollIntervalMs ?? DRAIN_POLL_INTERVAL_MS);
  }
}

async function currentBootId(host: Host): Promise<string> {
  return (await host.readText(BOOT_ID)).trim();
}

function insideWindow(deps: SequenceDeps): boolean {
  return isInsideWindow(deps.settings.window, deps.settings.timeZone, deps.host.now());
}

function windowText(settings: UpdateSettings): string {
  return `${settings.window.text} (${settings.timeZone})`;
}

async function step(deps: SequenceDeps, name: SequenceStep): Promise<void> {
  await deps.checkpoint?.(name);
}
