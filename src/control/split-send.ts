import type { Logger } from '../core/logger.ts';
import { LIMITS } from './protocol.ts';

/**
 * Sends spooled items (samples, events) so that nothing is dropped on the endpoint's say-so alone. A batch
 * refused as too large (413) or invalid (400/422) is halved and each half sent, down to single items, before
 * anything is concluded: only then is it known which item the refusal is about. A single item refused as
 * invalid is dropped; one refused as too large is dropped only when it is larger than the protocol's maximum
 * (LIMITS.itemBytes). A 413 for an ordinary item says nothing about the item: the endpoint (or a proxy in front
 * of it) is at fault, and the sending stops there with everything kept. A refusal that is about the request
 * rather than its items (a remote-write endpoint's 401 or 404, which the spec says not to retry) drops the
 * whole batch at once, without halving.
 */
export type SinkOutcome =
  | { readonly kind: 'delivered'; readonly receipt: { readonly accepted: number; readonly duplicates: number } }
  /** Worth sending again later. `unreachable`: no reply came from the endpoint itself (a probe tells it is back). */
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number; readonly unreachable?: boolean }
  /** Refused as invalid: no use sending again. `wholeRequest`: whatever the items, so they are not halved first. */
  | { readonly kind: 'rejected'; readonly reason: string; readonly wholeRequest?: boolean }
  /** HTTP 413: too large for the endpoint, or something in front of it. */
  | { readonly kind: 'too-large'; readonly reason: string };

export interface SplitTarget<Item> {
  readonly send: (items: readonly Item[]) => Promise<SinkOutcome>;
  readonly logger: Logger;
  /** Where the items go, for the log: "control endpoint https://…". */
  readonly label: string;
  /** "sample" or "event", for the log. */
  readonly noun: string;
  /** What LIMITS.itemBytes is called for this sink; "the protocol's maximum" when not given. */
  readonly limitName?: string;
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
    accepted: 0,
    duplicates: 0,
    refused: 0,
    failure: null,
    fittingSize: null,
    tooLargeAt: null,
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
  if (outcome.kind === 'rejected' && outcome.wholeRequest === true) return refuseAll(items, outcome, target, progress);
  if (items.length === 1) return refuseOne(items[0] as Item, outcome, target, progress);
  if (outcome.kind === 'too-large') progress.tooLargeAt = Math.min(progress.tooLargeAt ?? Infinity, items.length);
  return sendHalves(items, target, progress);
}

async function sendHalves<Item>(items: readonly Item[], target: SplitTarget<Item>, progress: Progress) {
  const half = Math.ceil(items.length / 2);
  return (await sendPart(items.slice(0, half), target, progress)) && sendPart(items.slice(half), target, progress);
}

type Refusal = SinkOutcome & { readonly kind: 'rejected' | 'too-large' };

function refuseAll<Item>(items: readonly Item[], outcome: Refusal, target: SplitTarget<Item>, progress: Progress) {
  const nouns = `${target.noun}${items.length === 1 ? '' : 's'}`;
  const refused = `the ${target.label} refused ${items.length} ${nouns} whatever they hold`;
  target.logger.error(`${refused}; they are dropped and counted as rejected`, { reason: outcome.reason });
  progress.refused += items.length;
  return true;
}

function refuseOne<Item>(item: Item, outcome: Refusal, target: SplitTarget<Item>, progress: Progress): boolean {
  const bytes = Buffer.byteLength(JSON.stringify(item));
  const maximum = `${target.limitName ?? "the protocol's maximum"} of ${LIMITS.itemBytes} bytes`;
  if (outcome.kind === 'too-large' && bytes <= LIMITS.itemBytes) {
    // A limit below one ordinary item is no limit to learn: the next batches start full size again.
    progress.fittingSize = null;
    const fault = 'a fault of the endpoint or of a proxy in front of it (its request size limit)';
    const reason = `${outcome.reason} for a single ${target.noun} of ${bytes} bytes, within ${maximum}: ${fault}`;
    progress.failure = { reason, unreachable: false, endpointFault: true };
    return false;
  }
  const why = outcome.kind === 'rejected' ? 'as invalid' : `as too large, and it is larger than ${maximum}`;
  const refused = `the ${target.label} refused a ${target.noun} of ${bytes} bytes ${why}`;
  const message = `${refused}; it is dropped and counted as rejected`;
  target.logger.error(message, { id: (item as { id?: unknown }).id, reason: outcome.reason });
  progress.refused++;
  return true;
}
