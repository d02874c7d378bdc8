import type { ConcernContext } from '../core/concern.ts';
import type { RetryPolicy } from './scheduler.ts';

/**
 * Work the daemon repeats on a schedule (metrics, users sync, updates check),
 * besides the periodic full converge. A job owns its own state; the daemon only
 * times it, isolates its failures and retries it when it fails. The context's
 * `config` stays the same object from run to run until a reload changes a
 * value, so a job may keep what it built from it.
 */
export interface JobContext extends ConcernContext {
  /** Aborted on SIGTERM: a job finishes or abandons its step safely. */
  readonly signal: AbortSignal;
}

export interface JobResult {
  /** One line for `status` and the log. */
  readonly summary: string;
  /** Data for `status --json`. */
  readonly details?: unknown;
}

export interface Job {
  readonly name: string;
  /** Milliseconds between runs, or null when the job is not configured (e.g. no USERS_SOURCE). */
  intervalMs(context: ConcernContext): number | null;
  /** How a failed run is retried, given the interval; default: twice the interval, doubling, at most an hour. */
  readonly retry?: (intervalMs: number) => RetryPolicy;
  run(context: JobContext): Promise<JobResult>;
}
