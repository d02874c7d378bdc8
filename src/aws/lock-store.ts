import { AgentError, messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { isAwsError } from './clients.ts';
import type { Parameter, Ssm } from './ssm.ts';

/**
 * The SSM calls of the fleet lock, each retried on throttling and on faults
 * that leave the outcome open, with exponential backoff and full jitter (so a
 * fleet throttled together does not retry together). Whatever still fails is
 * a FleetLockError: the lock never reads an error as "slot free" or "busy".
 * The client must not retry by itself (maxAttempts 1): a retried create
 * whose first reply was lost reads ParameterAlreadyExists, and only the lock
 * can tell that the claim found is its own.
 */
export class FleetLockError extends AgentError {}

/** Time as the lock needs it: elapsed time for leases, sleeps for backoff, randomness for jitter. */
export interface LockTiming {
  /** Milliseconds of a monotonic clock: a step of the wall clock cannot lengthen a lease. */
  monotonicMs(): number;
  sleep(ms: number): Promise<void>;
  /** In [0, 1). */
  random(): number;
}

export interface LockStore {
  list(path: string): Promise<Parameter[]>;
  /** PutParameter without overwrite, the atomic step: false when the name exists already. */
  create(name: string, value: string): Promise<boolean>;
  /** PutParameter with overwrite; returns the new version (1: the parameter was not there). */
  overwrite(name: string, value: string): Promise<number>;
  /** DeleteParameter; a parameter already gone is fine. */
  remove(name: string): Promise<void>;
}

/** About 24 s of backoff at most before an operation is given up. */
export const RETRY = { attempts: 8, baseMs: 250, capMs: 8000 } as const;

/** "Full jitter": uniformly random up to the exponential bound. */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.floor(random() * Math.min(RETRY.capMs, RETRY.baseMs * 2 ** (attempt - 1)));
}

const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyUpdates',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
]);
/** Failures before any request left this host: retrying cannot help. */
const LOCAL = new Set(['CredentialsProviderError', 'TypeError', 'RangeError']);

/**
 * Worth another try: throttling, a server fault, or no reply at all (refused,
 * reset, timed out: the request may or may not have been applied).
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error) || LOCAL.has(error.name)) return false;
  if (THROTTLED.has(error.name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status === 429 || status >= 500;
}

export function ssmLockStore(ssm: Ssm, timing: LockTiming, logger?: Logger): LockStore {
  const retried = <T>(permission: string, name: string, send: () => Promise<T>) =>
    withRetries(permission, name, send, timing, logger);
  return {
    async list(path) {
      const parameters: Parameter[] = [];
      let nextToken: string | undefined;
      // Not the SDK's paginator: each page is tried again on its own (retried), where a paginator's failed page
      // would end the listing and a new one read every page again.
      do {
        const input = { Path: path, Recursive: true, ...(nextToken ? { NextToken: nextToken } : {}) };
        const page = await retried('ssm:GetParametersByPath', path, () => ssm.getParametersByPath(input));
        parameters.push(...(page.Parameters ?? []));
        nextToken = page.NextToken;
      } while (nextToken);
      return parameters;
    },
    async create(name, value) {
      return retried('ssm:PutParameter', name, async () => {
        try {
          await ssm.putParameter({ Name: name, Value: value, Type: 'String', Overwrite: false });
          return true;
        } catch (error) {
          if (isAwsError(error, 'ParameterAlreadyExists')) return false;
          throw error;
        }
      });
    },
    async overwrite(name, value) {
      const reply = await retried('ssm:PutParameter', name, () =>
        ssm.putParameter({ Name: name, Value: value, Type: 'String', Overwrite: true }),
      );
      return reply.Version ?? 0;
    },
    async remove(name) {
      await retried('ssm:DeleteParameter', name, async () => {
        try {
          await ssm.deleteParameter({ Name: name });
        } catch (error) {
          if (!isAwsError(error, 'ParameterNotFound')) throw error;
        }
      });
    },
  };
}

async function withRetries<T>(
  permission: string,
  name: string,
  send: () => Promise<T>,
  timing: LockTiming,
  logger?: Logger,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!isTransient(error) || attempt >= RETRY.attempts) throw failed(permission, name, error, attempt);
      const delayMs = backoffMs(attempt, () => timing.random());
      logger?.warn(
        `${permission} on ${name} failed (${describe(error)}); ` +
          `trying again in ${delayMs} ms (attempt ${attempt + 1} of ${RETRY.attempts})`,
      );
      await timing.sleep(delayMs);
    }
  }
}

function failed(permission: string, name: string, error: unknown, attempts: number): FleetLockError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  const denied = error instanceof Error && /AccessDenied|UnauthorizedOperation/.test(error.name);
  const hint = denied
    ? `; the instance role needs ${permission} on the reboot lock path`
    : '; nothing was decided about the reboot slots';
  return new FleetLockError(`${permission} on ${name} failed${tries}: ${describe(error)}${hint}`);
}

function describe(error: unknown): string {
  const name = error instanceof Error && error.name !== 'Error' ? ` (${error.name})` : '';
  return `${messageOf(error)}${name}`;
}
