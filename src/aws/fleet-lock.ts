import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import { FleetLockError, type LockStore, type LockTiming, ssmLockStore } from './lock-store.ts';
import {
  CLOCK_NAME,
  claimName,
  heldClaims,
  heldValue,
  HOLDER,
  holderOf,
  MAX_TTL_MS,
  MIN_TTL_MS,
  readParameters,
  releasedValue,
  type SlotClaim,
  stateOf,
  type StoredClaim,
  takenAtOf,
  topClaims,
  viewOf,
} from './slot-claims.ts';
import type { Ssm } from './ssm.ts';

export { FleetLockError, type LockTiming } from './lock-store.ts';
export type { SlotClaim } from './slot-claims.ts';

/**
 * A fleet-wide "at most N hosts reboot at once" lock in SSM Parameter Store.
 *
 * Slot i of a cluster is held by the top generation of `<path>/<cluster>/<i>/<generation>`.
 * PutParameter without overwrite is an atomic create: of two hosts creating
 * the same name exactly one wins. Names are never used twice: a holder gives
 * its slot back by overwriting its claim with a "released" value, and the
 * next claim of the slot takes the next generation; only lower generations
 * are deleted, by the host that superseded them.
 *
 * Why no host's clock decides (hosts drift, and one running ahead would see
 * every claim expired): a claim expires when the lock service's clock is one
 * TTL past the claim's LastModifiedDate. "Now" on that clock is read by
 * overwriting `<path>/<cluster>/clock` and listing it with the claims: its
 * LastModifiedDate is a time the service stamped before the listing, so a
 * claim judged expired was not renewed for a whole TTL up to a moment the
 * listing already saw. Both times come from SSM, so any offset of a host's
 * clock cancels out. A holder renews by overwriting its claim and reads the
 * new LastModifiedDate back: if a whole TTL separates it from the one before,
 * the claim had lapsed when the renewal landed (and someone may have judged
 * it expired), so the holder gives it back instead of believing it still
 * holds. What a holder may act on is a lease it measures on its own monotonic
 * clock from the moment it sent the write, which is never later than the
 * moment SSM stamped it: only the rate of the host's clock matters, and a
 * percent of the TTL is kept in reserve for it.
 */
export interface FleetLockOptions {
  /** REBOOT_LOCK_PATH, e.g. /ecs-host-agent/reboot-lock */
  readonly path: string;
  readonly cluster: string;
  /** MAX_CONCURRENT_REBOOTS */
  readonly slots: number;
  /** REBOOT_LOCK_TTL: the TTL of this host's claims, and of claims whose value does not say. */
  readonly ttlMs: number;
}

/** A slot this host holds, and until when it may act on it. */
export interface Lease {
  readonly claim: SlotClaim;
  /** On LockTiming's monotonic clock: the claim cannot have expired on the lock service's clock before then. */
  readonly validUntil: number;
  readonly ttlMs: number;
}

export type AcquireResult =
  | { readonly acquired: true; readonly lease: Lease; readonly renewed: boolean }
  | { readonly acquired: false; readonly holders: readonly SlotClaim[] };

export interface LockStatus {
  /** The lock service's time the claims were judged at. */
  readonly serverTime: string;
  /** Every claim of the cluster, by slot, highest generation first. */
  readonly claims: readonly SlotClaim[];
  readonly held: number;
}

export interface FleetLock {
  /** A slot for holder: the one it holds already (renewed), after a crash too; else a free or expired one. */
  acquire(holder: string, ttlMs?: number): Promise<AcquireResult>;
  /** Renews holder's claim; null when it no longer holds one (it lapsed, or another host took the slot). */
  renew(holder: string): Promise<Lease | null>;
  /** Gives back every claim of holder; returns their parameter names. */
  release(holder: string): Promise<string[]>;
  status(holder: string): Promise<LockStatus>;
  /** Milliseconds left on the lease, on the monotonic clock. */
  remainingMs(lease: Lease): number;
}

/** The SSM client the lock needs: no retries of its own (see lock-store.ts), and no request left hanging. */
export const LOCK_CLIENT_TUNING = { maxAttempts: 1, requestTimeoutMs: 10_000 } as const;

/** Of every lease, the share kept in reserve for a host clock that runs slow. */
const RATE_RESERVE = 0.01;

export function lockTiming(host: Host): LockTiming {
  return { monotonicMs: () => performance.now(), sleep: (ms) => host.sleep(ms), random: Math.random };
}

export function createFleetLock(ssm: Ssm, options: FleetLockOptions, timing: LockTiming, logger?: Logger): FleetLock {
  return createLockOn(ssmLockStore(ssm, timing, logger), options, timing, logger);
}

interface Reading {
  readonly claims: StoredClaim[];
  /** The lock service's time, at most its real time when the claims were listed. */
  readonly serverNowMs: number;
}

function createLockOn(store: LockStore, options: FleetLockOptions, timing: LockTiming, logger?: Logger): FleetLock {
  const prefix = `${options.path}/${options.cluster}`;
  const read = async () => readParameters(await store.list(prefix), prefix, options.ttlMs, logger).claims;

  const readWithClock = async (holder: string): Promise<Reading> => {
    await store.overwrite(
      `${prefix}/${CLOCK_NAME}`,
      JSON.stringify({ readBy: holder, nonce: timing.random().toString(36).slice(2) }),
    );
    const reading = readParameters(await store.list(prefix), prefix, options.ttlMs, logger);
    if (reading.clockMs === null) {
      throw new FleetLockError(
        `${prefix}/${CLOCK_NAME}, written just now, is not listed: ` +
          "the lock service's time is unknown, nothing was decided",
      );
    }
    return { claims: reading.claims, serverNowMs: reading.clockMs };
  };

  const leaseOf = (claim: StoredClaim, claims: readonly StoredClaim[], sentAt: number, ttlMs: number): Lease => ({
    claim: viewOf(claim, topClaims(claims), claim.modifiedMs),
    validUntil: sentAt + ttlMs * (1 - RATE_RESERVE),
    ttlMs,
  });

  /** A top claim becomes a released slot (its name is not used again); a lower one is deleted. */
  const giveBack = async (claim: StoredClaim, claims: readonly StoredClaim[], holder: string): Promise<void> => {
    if (topClaims(claims).includes(claim)) await store.overwrite(claim.parameter, releasedValue(holder));
    else await store.remove(claim.parameter);
  };

  /** Overwrites the claim and reads it back: kept only if it had not lapsed and is still the top of its slot. */
  const renewClaim = async (claim: StoredClaim, holder: string, ttlMs: number): Promise<Lease | null> => {
    const sentAt = timing.monotonicMs();
    const version = await store.overwrite(claim.parameter, heldValue(holder, ttlMs, takenAtOf(claim)));
    const claims = await read();
    const now = claims.find((stored) => stored.parameter === claim.parameter);
    if (!now || holderOf(now) !== holder) return null;
    const previousTtlMs = claim.content.kind === 'held' ? claim.content.ttlMs : 0;
    const lapsed = now.modifiedMs - claim.modifiedMs >= previousTtlMs;
    // Version 1: the claim had been deleted by the host that superseded it, and the overwrite made it again.
    if (version === 1 || lapsed || stateOf(now, topClaims(claims), now.modifiedMs) !== 'held') {
      const gapSeconds = Math.round((now.modifiedMs - claim.modifiedMs) / 1000);
      const why = lapsed
        ? `its renewal landed ${gapSeconds} s after the one before, a TTL or more`
        : 'another host took it';
      logger?.warn(`reboot slot ${claim.parameter} is no longer held by ${holder}: ${why}; giving it back`);
      await giveBack(now, claims, holder);
      return null;
    }
    return leaseOf(now, claims, sentAt, ttlMs);
  };

  /** Creates the next generation of a slot; the claim counts only if it is the top and the cap still holds. */
  const claimSlot = async (slot: number, generation: number, holder: string, ttlMs: number): Promise<Lease | null> => {
    const name = claimName(prefix, slot, generation);
    const sentAt = timing.monotonicMs();
    const created = await store.create(name, heldValue(holder, ttlMs, null));
    const claims = await read();
    const mine = claims.find((stored) => stored.parameter === name);
    if (!mine || holderOf(mine) !== holder) return null;
    // A create retried after a lost reply finds the name taken: the value says whether it is this host's own claim.
    if (!created) {
      logger?.info(`reboot slot ${name}: the reply to its creation was lost; the claim found there is ${holder}'s own`);
    }
    if (
      stateOf(mine, topClaims(claims), mine.modifiedMs) !== 'held' ||
      heldClaims(claims, mine.modifiedMs).length > options.slots
    ) {
      await giveBack(mine, claims, holder);
      return null;
    }
    for (const lower of claims.filter((stored) => stored.slot === slot && stored.generation < generation)) {
      await store.remove(lower.parameter);
    }
    return leaseOf(mine, claims, sentAt, ttlMs);
  };

  const busy = (reading: Reading): AcquireResult => {
    const tops = topClaims(reading.claims);
    return {
      acquired: false,
      holders: heldClaims(reading.claims, reading.serverNowMs).map((claim) => viewOf(claim, tops, reading.serverNowMs)),
    };
  };

  /** A slot whose top claim is missing, released or expired, in slot order. */
  const take = async (holder: string, ttlMs: number, reading: Reading): Promise<AcquireResult> => {
    if (heldClaims(reading.claims, reading.serverNowMs).length >= options.slots) return busy(reading);
    const tops = topClaims(reading.claims);
    for (let slot = 0; slot < options.slots; slot++) {
      const top = tops.find((claim) => claim.slot === slot);
      if (top && stateOf(top, tops, reading.serverNowMs) === 'held') continue;
      const lease = await claimSlot(slot, top ? top.generation + 1 : 0, holder, ttlMs);
      if (lease) return { acquired: true, lease, renewed: false };
    }
    return busy(await readWithClock(holder));
  };

  return {
    async acquire(holder, ttlMs = options.ttlMs) {
      checkHolder(holder);
      if (!Number.isInteger(ttlMs) || ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) {
        throw new FleetLockError(`a reboot slot TTL of ${ttlMs} ms is outside 1m to 24h`);
      }
      let reading = await readWithClock(holder);
      const own = heldClaims(reading.claims, reading.serverNowMs).filter((claim) => holderOf(claim) === holder);
      if (own[0]) {
        const lease = await renewClaim(own[0], holder, ttlMs);
        if (lease) {
          for (const extra of own.slice(1)) await giveBack(extra, reading.claims, holder);
          return { acquired: true, lease, renewed: true };
        }
        reading = await readWithClock(holder);
      }
      return take(holder, ttlMs, reading);
    },
    async renew(holder) {
      checkHolder(holder);
      const claims = await read();
      const own = topClaims(claims).find((claim) => claim.content.kind === 'held' && holderOf(claim) === holder);
      return own ? renewClaim(own, holder, options.ttlMs) : null;
    },
    async release(holder) {
      checkHolder(holder);
      const claims = await read();
      const own = claims.filter((claim) => holderOf(claim) === holder);
      for (const claim of own) await giveBack(claim, claims, holder);
      return own.map((claim) => claim.parameter);
    },
    async status(holder) {
      checkHolder(holder);
      const { claims, serverNowMs } = await readWithClock(holder);
      const tops = topClaims(claims);
      const ordered = [...claims].sort((a, b) => a.slot - b.slot || b.generation - a.generation);
      return {
        serverTime: new Date(serverNowMs).toISOString(),
        claims: ordered.map((claim) => viewOf(claim, tops, serverNowMs)),
        held: heldClaims(claims, serverNowMs).length,
      };
    },
    remainingMs(lease) {
      return lease.validUntil - timing.monotonicMs();
    },
  };
}

function checkHolder(holder: string): void {
  if (!HOLDER.test(holder)) {
    throw new FleetLockError(`reboot slot holder ${JSON.stringify(holder)} is not an instance id`);
  }
}
