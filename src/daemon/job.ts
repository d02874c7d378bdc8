import type { ConcernContext } from '../core/concern.ts';
import type { RetryPolicy } from './scheduler.ts';

/**
 * Work the daemon repeats on a schedule (the converge, metrics, users sync,
 * updates check). A job owns its own state; the daemon only
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
  /** Each run reads the OS facts again first, and the jobs after it share what it read (the converge). */
  readonly freshFacts?: true;
  /**
   * Each run is a short-lived process of the same binary (the daemon's internal `job` command): what the job
   * loads (the AWS SDK, the concerns, the package managers) and builds leaves with that process, so the
   * resident daemon holds only the scheduler, the sampler and the spool. Everything it needs from the daemon
   * (the configuration, the OS facts) is handed to it; its log lines and result come back.
   */
  readonly ownProcess?: true;
  run(context: JobContext): Promise<JobResult>;
}
