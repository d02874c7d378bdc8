import type { FleetLock, Lease, SlotClaim } from '../../../aws/fleet-lock.ts';
import { messageOf } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';

export type SlotState = 'held' | 'lost';

/**
 * Keeps this host's reboot slot while the sequence works (drain, the wait for
 * the ECS agent after the boot): renewed once a third of its TTL has passed.
 * A renewal that fails (each already retried with backoff) is logged and
 * tried again a twelfth of the TTL later, so about eight tries fit before
 * the lease runs out; the slot is lost only when another host has it or the
 * lease ran out unrenewed.
 */
export class SlotKeeper {
  readonly #lock: FleetLock;
  readonly #holder: string;
  readonly #logger: Logger;
  #lease: Lease | null;
  /** After a failed renewal: what must be left of the lease before the next try. */
  #nextTryAtLeftMs = Infinity;

  constructor(lock: FleetLock, holder: string, lease: Lease, logger: Logger) {
    this.#lock = lock;
    this.#holder = holder;
    this.#lease = lease;
    this.#logger = logger;
  }

  /** The claim as of the last renewal that went through; null once lost. */
  get claim(): SlotClaim | null {
    return this.#lease?.claim ?? null;
  }

  /** What is left of the lease (0 once lost), on the monotonic clock. */
  remainingMs(): number {
    return this.#lease ? Math.max(0, this.#lock.remainingMs(this.#lease)) : 0;
  }

  async renewIfDue(): Promise<SlotState> {
    const lease = this.#lease;
    if (lease === null) return 'lost';
    const leftMs = this.#lock.remainingMs(lease);
    const due = leftMs <= (lease.ttlMs * 2) / 3 && leftMs <= this.#nextTryAtLeftMs;
    return due || leftMs <= 0 ? this.renew() : 'held';
  }

  async renew(): Promise<SlotState> {
    const lease = this.#lease;
    if (lease === null) return 'lost';
    try {
      this.#lease = await this.#lock.renew(this.#holder);
      this.#nextTryAtLeftMs = Infinity;
      if (this.#lease === null) {
        this.#logger.error(`reboot slot ${lease.claim.parameter} was lost: it lapsed, or another host took it`);
      }
    } catch (error) {
      const leftMs = this.#lock.remainingMs(lease);
      this.#nextTryAtLeftMs = leftMs - lease.ttlMs / 12;
      if (leftMs > 0) {
        this.#logger.warn(
          `renewing reboot slot ${lease.claim.parameter} failed; it is held for ${Math.round(leftMs / 1000)} s more, ` +
            `trying again in ${Math.round(lease.ttlMs / 12000)} s: ${messageOf(error)}`,
        );
        return 'held';
      }
      this.#logger.error(
        `reboot slot ${lease.claim.parameter} ran out while it could not be renewed: ${messageOf(error)}`,
      );
      this.#lease = null;
    }
    return this.#lease ? 'held' : 'lost';
  }
}
