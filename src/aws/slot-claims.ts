import type { Logger } from '../core/logger.ts';
import type { Parameter } from './ssm.ts';

/**
 * The reboot slots' parameters as data: names, values and how a claim is
 * judged. Every time here is the lock service's: a parameter's
 * LastModifiedDate, which SSM sets when it stores a write. The value a host
 * writes names the holder and the claim's TTL, never a time of its own clock.
 *
 *   <path>/<cluster>/<slot>/<generation>  a claim: {"instanceId", "ttlSeconds"[, "takenAt"]}
 *                                         or a released slot: {"releasedBy"} (who, for a reader of SSM)
 *   <path>/<cluster>/clock                 overwritten to read the service's clock (its LastModifiedDate)
 */
export const CLOCK_NAME = 'clock';

/** An EC2 instance id; tests and other AWS partitions may use other ids of this alphabet. */
export const HOLDER = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The TTLs a claim may carry: REBOOT_LOCK_TTL's range. */
export const MIN_TTL_MS = 60_000;
export const MAX_TTL_MS = 86_400_000;

export type ClaimContent =
  /** holder null: a value that cannot be read still holds its slot, with the reader's TTL. */
  | { readonly kind: 'held'; readonly holder: string | null; readonly ttlMs: number; readonly takenAt: string | null }
  | { readonly kind: 'released' };

/** One slot parameter as read from SSM. */
export interface StoredClaim {
  readonly parameter: string;
  readonly slot: number;
  readonly generation: number;
  /** SSM's version: 1 for a parameter never overwritten. */
  readonly version: number;
  /** LastModifiedDate: when the lock service stored the claim or its last renewal. */
  readonly modifiedMs: number;
  readonly content: ClaimContent;
}

/**
 * held: the top generation of its slot and not expired; expired: the top, but
 * not renewed within its TTL (anyone may take the slot with the next
 * generation); superseded: a lower generation, to be removed; released: the
 * holder gave the slot back (the slot is free; its name is never used again).
 */
export type ClaimState = 'held' | 'expired' | 'superseded' | 'released';

/** A claim as `reboot-slot status` and `acquire` show it; every time is the lock service's. */
export interface SlotClaim {
  readonly slot: number;
  readonly generation: number;
  readonly parameter: string;
  readonly state: ClaimState;
  /** The instance id; null for a released slot or a value that cannot be read. */
  readonly holder: string | null;
  /** When the claim was made; null when no record of it is left (renewed by another version of the agent). */
  readonly takenAt: string | null;
  /** When it was made or last renewed (LastModifiedDate). */
  readonly renewedAt: string;
  /** renewedAt + TTL; null for a released slot. */
  readonly expiresAt: string | null;
  readonly ttlSeconds: number | null;
}

export function claimName(prefix: string, slot: number, generation: number): string {
  return `${prefix}/${slot}/${generation}`;
}

export function heldValue(holder: string, ttlMs: number, takenAt: string | null): string {
  return JSON.stringify({ instanceId: holder, ttlSeconds: Math.round(ttlMs / 1000), ...(takenAt ? { takenAt } : {}) });
}

export function releasedValue(holder: string): string {
  return JSON.stringify({ releasedBy: holder });
}

export interface ReadParameters {
  readonly claims: StoredClaim[];
  /** LastModifiedDate of the clock parameter, or null when it was not there. */
  readonly clockMs: number | null;
}

/**
 * A parameter someone else wrote is input like any other. One that is neither
 * a claim nor the clock is ignored (and named in a warning); a claim whose
 * value cannot be read still holds its slot, for the reader's own TTL.
 */
export function readParameters(
  parameters: readonly Parameter[],
  prefix: string,
  defaultTtlMs: number,
  logger?: Logger,
): ReadParameters {
  const claims: StoredClaim[] = [];
  let clockMs: number | null = null;
  for (const parameter of parameters) {
    const name = parameter.Name ?? '';
    const modifiedMs = parameter.LastModifiedDate?.getTime() ?? 0;
    if (name === `${prefix}/${CLOCK_NAME}`) clockMs = modifiedMs;
    else {
      const claim = readClaim(parameter, name, modifiedMs, prefix, defaultTtlMs, logger);
      if (claim) claims.push(claim);
    }
  }
  return { claims, clockMs };
}

function readClaim(
  parameter: Parameter,
  name: string,
  modifiedMs: number,
  prefix: string,
  defaultTtlMs: number,
  logger?: Logger,
): StoredClaim | null {
  const match = name.startsWith(`${prefix}/`) ? /^(\d{1,4})\/(\d{1,9})$/.exec(name.slice(prefix.length + 1)) : null;
  if (!match) {
    logger?.warn(
      `ignoring SSM parameter ${JSON.stringify(name)} under the reboot lock path: ` +
        'not a slot claim (<path>/<cluster>/<slot>/<generation>)',
    );
    return null;
  }
  const content = parseContent(parameter.Value ?? '', defaultTtlMs);
  if (content.kind === 'held' && content.holder === null) {
    logger?.warn(
      `reboot slot ${name} has an unreadable value; ` +
        `it counts as held until ${new Date(modifiedMs + defaultTtlMs).toISOString()}`,
    );
  }
  return {
    parameter: name,
    slot: Number(match[1]),
    generation: Number(match[2]),
    version: parameter.Version ?? 0,
    modifiedMs,
    content,
  };
}

function parseContent(text: string, defaultTtlMs: number): ClaimContent {
  const value = parseObject(text);
  if (typeof value.releasedBy === 'string') return { kind: 'released' };
  const holder = typeof value.instanceId === 'string' && HOLDER.test(value.instanceId) ? value.instanceId : null;
  const ttlMs = typeof value.ttlSeconds === 'number' ? value.ttlSeconds * 1000 : NaN;
  const takenAt = typeof value.takenAt === 'string' && !Number.isNaN(Date.parse(value.takenAt)) ? value.takenAt : null;
  // An older agent's claim has an expiresAt of its own clock instead of ttlSeconds: it gets the reader's TTL.
  const validTtl = Number.isInteger(ttlMs) && ttlMs >= MIN_TTL_MS && ttlMs <= MAX_TTL_MS;
  return { kind: 'held', holder, ttlMs: validTtl ? ttlMs : defaultTtlMs, takenAt };
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The top generation of each slot: the only one that counts. */
export function topClaims(claims: readonly StoredClaim[]): StoredClaim[] {
  const tops = new Map<number, StoredClaim>();
  for (const claim of claims) {
    const top = tops.get(claim.slot);
    if (!top || claim.generation > top.generation) tops.set(claim.slot, claim);
  }
  return [...tops.values()].sort((a, b) => a.slot - b.slot);
}

/**
 * Expired when the lock service's clock, read at serverNowMs, is at least one
 * TTL past the claim's last write. serverNowMs is a time the service gave (the
 * clock parameter's LastModifiedDate, written before the claims were listed),
 * so it is never ahead of the service's real time: a claim can look live for
 * longer than its TTL, never expire early.
 */
export function stateOf(claim: StoredClaim, tops: readonly StoredClaim[], serverNowMs: number): ClaimState {
  if (claim.content.kind === 'released') return 'released';
  if (!tops.includes(claim)) return 'superseded';
  return claim.modifiedMs + claim.content.ttlMs <= serverNowMs ? 'expired' : 'held';
}

/** Claims that count against MAX_CONCURRENT_REBOOTS. */
export function heldClaims(claims: readonly StoredClaim[], serverNowMs: number): StoredClaim[] {
  const tops = topClaims(claims);
  return tops.filter((claim) => stateOf(claim, tops, serverNowMs) === 'held');
}

export function holderOf(claim: StoredClaim): string | null {
  return claim.content.kind === 'held' ? claim.content.holder : null;
}

/**
 * When the claim was made: what an earlier renewal copied into the value, or
 * the LastModifiedDate of a claim never overwritten.
 */
export function takenAtOf(claim: StoredClaim): string | null {
  if (claim.content.kind !== 'held') return null;
  return claim.content.takenAt ?? (claim.version === 1 ? new Date(claim.modifiedMs).toISOString() : null);
}

export function viewOf(claim: StoredClaim, tops: readonly StoredClaim[], serverNowMs: number): SlotClaim {
  const { content } = claim;
  const held = content.kind === 'held';
  return {
    slot: claim.slot,
    generation: claim.generation,
    parameter: claim.parameter,
    state: stateOf(claim, tops, serverNowMs),
    holder: held ? content.holder : null,
    takenAt: takenAtOf(claim),
    renewedAt: new Date(claim.modifiedMs).toISOString(),
    expiresAt: held ? new Date(claim.modifiedMs + content.ttlMs).toISOString() : null,
    ttlSeconds: held ? content.ttlMs / 1000 : null,
  };
}
