import {
  DeleteParameterCommand,
  GetParametersByPathCommand,
  type Parameter,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';

import { AgentError, messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/**
 * A fleet-wide "at most N hosts reboot at once" lock in SSM Parameter Store.
 *
 * Slot i of a cluster is held by whoever created the parameter
 * `<path>/<cluster>/<i>/<generation>` with the highest generation, as long as
 * its expiry (in the value, with the holder's instance id) has not passed.
 * PutParameter without overwrite is an atomic create, so of two hosts creating
 * the same name exactly one wins. A dead host's slot is reclaimed by creating
 * the next generation, never by deleting someone else's claim: two hosts
 * reclaiming at once race for the same new name. A claim that finds a newer
 * generation after creating its own withdraws. Superseded generations are
 * removed by the winner; a holder removes its own parameter when done.
 */
export interface FleetLockOptions {
  /** REBOOT_LOCK_PATH, e.g. /ecs-host-agent/reboot-lock */
  readonly path: string;
  readonly cluster: string;
  /** MAX_CONCURRENT_REBOOTS */
  readonly slots: number;
  readonly ttlMs: number;
}

export interface SlotHold {
  readonly name: string;
  readonly slot: number;
  readonly generation: number;
  readonly holder: string;
  readonly expiresAt: string;
}

export interface FleetLock {
  /** A slot for holder (the one it already holds, after a crash), or null when all are taken. */
  acquire(holder: string, now: Date): Promise<SlotHold | null>;
  /** Whether holder still holds a live slot (not expired, not reclaimed by another host). */
  holds(holder: string, now: Date): Promise<boolean>;
  /** Removes every slot parameter of holder; returns how many there were. */
  release(holder: string): Promise<number>;
  /** Every claim, live or not, for status and tests. */
  list(): Promise<SlotHold[]>;
}

export class FleetLockError extends AgentError {}

const HOLDER = /^[A-Za-z0-9_.:-]{1,128}$/;

export function createFleetLock(ssm: SSMClient, options: FleetLockOptions, logger?: Logger): FleetLock {
  const prefix = `${options.path}/${options.cluster}`;
  const nameOf = (slot: number, generation: number) => `${prefix}/${slot}/${generation}`;

  const list = async (): Promise<SlotHold[]> => {
    const holds: SlotHold[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ssm
        .send(new GetParametersByPathCommand({ Path: prefix, Recursive: true, ...(nextToken ? { NextToken: nextToken } : {}) }))
        .catch((error: unknown) => Promise.reject(failed('ssm:GetParametersByPath', prefix, error)));
      for (const parameter of page.Parameters ?? []) {
        const hold = parseHold(parameter, prefix, options.ttlMs, logger);
        if (hold) holds.push(hold);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return holds;
  };

  /** The atomic step: false when the name exists already (another host won it). */
  const create = async (hold: SlotHold): Promise<boolean> => {
    try {
      await ssm.send(new PutParameterCommand({ Name: hold.name, Value: valueOf(hold), Type: 'String', Overwrite: false }));
      return true;
    } catch (error) {
      if (error instanceof ParameterAlreadyExists) return false;
      throw failed('ssm:PutParameter', hold.name, error);
    }
  };

  const remove = async (name: string): Promise<void> => {
    try {
      await ssm.send(new DeleteParameterCommand({ Name: name }));
    } catch (error) {
      if (!(error instanceof ParameterNotFound)) throw failed('ssm:DeleteParameter', name, error);
    }
  };

  return {
    list,
    async acquire(holder, now) {
      if (!HOLDER.test(holder)) throw new FleetLockError(`reboot slot holder ${JSON.stringify(holder)} is not an instance id`);
      const before = await list();
      const own = liveHolds(before, now).find((hold) => hold.holder === holder);
      if (own) return own;
      if (liveHolds(before, now).length >= options.slots) return null;
      for (let slot = 0; slot < options.slots; slot++) {
        const top = topOf(before, slot);
        if (top && !isExpired(top, now)) continue;
        const generation = top ? top.generation + 1 : 0;
        const claim = { name: nameOf(slot, generation), slot, generation, holder, expiresAt: new Date(now.getTime() + options.ttlMs).toISOString() };
        if (!(await create(claim))) continue;
        const after = await list();
        if (topOf(after, slot)?.generation !== generation) {
          await remove(claim.name);
          continue;
        }
        for (const old of after.filter((hold) => hold.slot === slot && hold.generation < generation)) await remove(old.name);
        return claim;
      }
      return null;
    },
    async holds(holder, now) {
      return liveHolds(await list(), now).some((hold) => hold.holder === holder);
    },
    async release(holder) {
      const own = (await list()).filter((hold) => hold.holder === holder);
      for (const hold of own) await remove(hold.name);
      return own.length;
    },
  };
}

/** The live claim of each slot: its highest generation, unless expired. */
function liveHolds(holds: readonly SlotHold[], now: Date): SlotHold[] {
  const slots = new Set(holds.map((hold) => hold.slot));
  return [...slots].map((slot) => topOf(holds, slot) as SlotHold).filter((hold) => !isExpired(hold, now));
}

function topOf(holds: readonly SlotHold[], slot: number): SlotHold | undefined {
  return holds.filter((hold) => hold.slot === slot).sort((a, b) => b.generation - a.generation)[0];
}

function isExpired(hold: SlotHold, now: Date): boolean {
  return Date.parse(hold.expiresAt) <= now.getTime();
}

function valueOf(hold: SlotHold): string {
  return JSON.stringify({ instanceId: hold.holder, expiresAt: hold.expiresAt });
}

/**
 * A parameter someone else wrote is input like any other. One that is not a
 * claim of this scheme is ignored; a claim whose value cannot be read still
 * holds its slot, until its last change is older than the TTL.
 */
function parseHold(parameter: Parameter, prefix: string, ttlMs: number, logger?: Logger): SlotHold | null {
  const name = parameter.Name ?? '';
  const match = /^\/(\d{1,4})\/(\d{1,9})$/.exec(name.slice(prefix.length));
  if (!name.startsWith(prefix) || !match) {
    logger?.warn(`ignoring SSM parameter ${JSON.stringify(name)} under the reboot lock path: not a slot claim (<path>/<cluster>/<slot>/<generation>)`);
    return null;
  }
  const [slot, generation] = [Number(match[1]), Number(match[2])];
  const value = parseValue(parameter.Value ?? '');
  if (value) return { name, slot, generation, ...value };
  const modified = parameter.LastModifiedDate?.getTime() ?? 0;
  logger?.warn(`reboot slot ${name} has an unreadable value; it counts as held until ${new Date(modified + ttlMs).toISOString()}`);
  return { name, slot, generation, holder: '(unreadable)', expiresAt: new Date(modified + ttlMs).toISOString() };
}

function parseValue(text: string): { holder: string; expiresAt: string } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { instanceId, expiresAt } = value as Record<string, unknown>;
  if (typeof instanceId !== 'string' || !HOLDER.test(instanceId)) return null;
  if (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt))) return null;
  return { holder: instanceId, expiresAt };
}

function failed(permission: string, name: string, error: unknown): FleetLockError {
  return new FleetLockError(`${permission} on ${name} failed: ${messageOf(error)} (the instance role needs ${permission} on the reboot lock path)`);
}
