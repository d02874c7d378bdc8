import type { Logger } from '../core/logger.ts';
import type { SendOutcome } from './client.ts';
import { LIMITS } from './protocol.ts';

/**
 * Sends spooled items (samples, events) so that nothing is dropped on the endpoint's say-so alone. A batch
 * refused as too large (413) or invalid (400/422) is halved and each half sent, down to single items, before
 * anything is concluded: only then is it known which item the refusal is about. A single item refused as
 * invalid is dropped; one refused as too large is dropped only when it is larger than the protocol's maximum
 * (LIMITS.itemBytes). A 413 for an ordinary item says nothing about the item: the endpoint (or a proxy in front
 * of it) is at fault, and the sending stops there with everything kept.
 */
export interface SplitTarget<Item> {
  readonly send: (items: readonly Item[]) => Promise<SendOutcome>;
  readonly logger: Logger;
  /** CONTROL_URL, for the log. */
  readonly endpoint: string;
  /** "sample" or "event", for the log. */
  readonly noun: string;
}

export interface SendFailure {
  readonly reason: string;
  readonly retryAfterMs?: number;
  /** No reply from the endpoint itself: a successful ping means it is back. */
  readonly unreachable: boolean;
  /** The endpoint refused what it must accept (413 for an ordinary item): an error for its operators, not a blip. */
  readonly endpointFault: boolean;
}

export interface SplitResult {
  readonly accepted: number;
  readonly duplicates: number;
  /** Items dropped: refused as invalid on their own, or refused as too large while over LIMITS.itemBytes. */
  readonly refused: number;
  /** What stopped the sending: then the whole batch stays spooled (parts delivered already come back as duplicates). */
  readonly failure: SendFailure | null;
  /** After a 413: the largest part the endpoint took, to start the next batches at; null when no 413 came. */
  readonly fittingSize: number | null;
}

export async function sendSplitting<Item>(items: readonly Item[], target: SplitTarget<Item>): Promise<SplitResult> {
  const progress: Progress = {
    accepted: 0, duplicates: 0, refused: 0, failure: null, fittingSize: null, tooLargeAt: null,
  };
  await sendPart(items, target, progress);
  const { accepted, duplicates, refused, failure, fittingSize } = progress;
  return { accepted, duplicates, refused, failure, fittingSize };
}

/** A SplitResult being filled in; `tooLargeAt`: the fewest items refused with 413 so far (no more are sent at once). */
type Progress = { -readonly [K in keyof SplitResult]: SplitResult[K] } & { tooLargeAt: number | null };

/** False when the sending must stop (recorded in progress.failure). */
async function sendPart<Item>(items: readonly Item[], target: SplitTarget<Item>, progress: Progress): Promise<boolean> {
  if (items.length > 1 && items.length >= (progress.tooLargeAt ?? Infinity)) return sendHalves(items, target, progress);
  const outcome = await target.send(items);
  if (outcome.kind === 'delivered') {
    progress.accepted += outcome.receipt.accepted;
    progress.duplicates += outcome.receipt.duplicates;
    if (progress.tooLargeAt !== null) progress.fittingSize = Math.max(progress.fittingSize ?? 0, items.length);
    return true;
  }
  if (outcome.kind === 'retry') {
    const { reason, retryAfterMs } = outcome;
    const unreachable = outcome.unreachable === true;
    const later = retryAfterMs === undefined ? {} : { retryAfterMs };
    progress.failure = { reason, unreachable, endpointFault: false, ...later };
    return false;
  }
  if (items.length === 1) return refuseOne(items[0] as Item, outcome, target, progress);
  if (outcome.kind === 'too-large') progress.tooLargeAt = Math.min(progress.tooLargeAt ?? Infinity, items.length);
  return sendHalves(items, target, progress);
}

async function sendHalves<Item>(items: readonly Item[], target: SplitTarget<Item>, progress: Progress) {
  const half = Math.ceil(items.length / 2);
  return (await sendPart(items.slice(0, half), target, progress)) && sendPart(items.slice(half), target, progress);
}

type Refusal = SendOutcome & { readonly kind: 'rejected' | 'too-large' };

function refuseOne<Item>(item: Item, outcome: Refusal, target: SplitTarget<Item>, progress: Progress): boolean {
  const bytes = Buffer.byteLength(JSON.stringify(item));
  const maximum = `the protocol's maximum of ${LIMITS.itemBytes} bytes`;
  if (outcome.kind === 'too-large' && bytes <= LIMITS.itemBytes) {
    // A limit below one ordinary item is no limit to learn: the next batches start full size again.
    progress.fittingSize = null;
    const fault = 'a fault of the endpoint or of a proxy in front of it (its request size limit)';
    const reason = `${outcome.reason} for a single ${target.noun} of ${bytes} bytes, within ${maximum}: ${fault}`;
    progress.failure = { reason, unreachable: false, endpointFault: true };
    return false;
  }
  const why = outcome.kind === 'rejected' ? 'as invalid' : `as too large, and it is larger than ${maximum}`;
  const refused = `the control endpoint ${target.endpoint} refused a ${target.noun} of ${bytes} bytes ${why}`;
  const message = `${refused}; it is dropped and counted as rejected`;
  target.logger.error(message, { id: (item as { id?: unknown }).id, reason: outcome.reason });
  progress.refused++;
  return true;
}
