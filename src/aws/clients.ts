import type { Host } from '../host/host.ts';
import { hostRequestHandler } from './host-handler.ts';

/*
 * What the SDK clients share. Each AWS service is a small port (ecs.ts, ssm.ts, cloudwatch.ts) with the few
 * operations the agent uses; the SDK client behind one is loaded at its first call (the daemon's memory: most
 * hosts need few or none) and sends through Host.http (host-handler.ts). Where calls go: region.ts.
 */

/** How a client's calls are retried and bounded. */
export interface ClientTuning {
  /** Attempts of each call, the first one included (the SDK's retries, with backoff). */
  readonly maxAttempts: number;
  /** A bound on each request, connection and reply together. */
  readonly requestTimeoutMs: number;
  /** 'adaptive': a throttled client also slows its own later calls (the SDK's default: 'standard'). */
  readonly retryMode?: 'standard' | 'adaptive';
}

/** An AWS API call that has not answered in 30 s is not going to: the SDK tries again. */
export const DEFAULT_TUNING: ClientTuning = { maxAttempts: 3, requestTimeoutMs: 30_000 };

/** The SDK client configuration every port's client shares: region, endpoint, retries, Host.http. */
export function sdkClientConfig(host: Host, region: string, endpoint: string | null | undefined, tuning: ClientTuning) {
  return {
    region,
    maxAttempts: tuning.maxAttempts,
    ...(tuning.retryMode ? { retryMode: tuning.retryMode } : {}),
    requestHandler: hostRequestHandler(host, tuning.requestTimeoutMs),
    ...(endpoint ? { endpoint } : {}),
  };
}

/** An error the service answered with, by its name (the SDK's exception classes are not loaded to compare). */
export function isAwsError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

/** A port whose implementation (and the SDK client it holds) is made at its first use, once. */
export function onFirstUse<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () =>
    (made ??= make().catch((error: unknown) => {
      made = null;
      throw error;
    }));
}
