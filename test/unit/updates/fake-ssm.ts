/**
 * The agent's Ssm port on a FakeHost whose HTTP answers come from an in-memory
 * Parameter Store with a clock of its own (the lock service's), so unit tests
 * run the SDK's own serialisation and error mapping. Faults are injected per
 * operation: throttling, a reply lost after the write was applied, a 500, or
 * another host's write landing just before this one.
 */
import type { LockTiming } from '../../../src/aws/fleet-lock.ts';
import { createSsm, type Ssm } from '../../../src/aws/ssm.ts';
import type { HttpRequest, HttpResponse } from '../../../src/host/host.ts';
import { awsJsonReply as reply, inputOf, targetOf } from '../../support/aws-json.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { useTestCredentials } from '../../support/test-credentials.ts';

export interface StoredParameter {
  value: string;
  version: number;
  modifiedMs: number;
}

export type FaultKind = 'throttle' | 'lose-reply' | 'server-error' | 'access-denied';

export interface Fault {
  readonly operation: 'PutParameter' | 'GetParametersByPath' | 'DeleteParameter';
  /** Only requests for names matching this; any when absent. */
  readonly name?: RegExp;
  readonly kind: FaultKind | { readonly before: (ssm: FakeSsm) => void };
  /** How many matching requests it affects. */
  count: number;
}

export interface SsmCall {
  readonly operation: string;
  readonly name: string;
  readonly overwrite?: boolean;
}

const PAGE_SIZE = 10;
const ENDPOINT = 'http://ssm.invalid';

export class FakeSsm {
  readonly parameters = new Map<string, StoredParameter>();
  readonly calls: SsmCall[] = [];
  readonly faults: Fault[] = [];
  /** What the lock is given: one attempt per call, as the lock's own client makes them. */
  readonly client: Ssm;
  /** The host the calls go through. */
  readonly host = new FakeHost();
  readonly #now: () => number;
  #offsetMs = 0;

  /** now: real time as the test sees it (a FakeHost's clock); the service's clock runs with it. */
  constructor(now: () => number = () => Date.parse('2026-11-22T12:00:00Z')) {
    this.#now = now;
    useTestCredentials();
    this.host.onHttp((request) => (request.url.startsWith(`${ENDPOINT}/`) ? this.#handle(request) : undefined));
    const settings = { region: 'eu-west-1', ecsEndpoint: null, ssmEndpoint: ENDPOINT };
    this.client = createSsm(this.host, settings, { maxAttempts: 1, requestTimeoutMs: 10_000 });
  }

  /** The lock service's clock, in ms; each request moves it on by 1 ms. */
  get serverNowMs(): number {
    return this.#now() + this.#offsetMs;
  }

  set serverNowMs(ms: number) {
    this.#offsetMs = ms - this.#now();
  }

  /** Another host's write, stamped now on the service's clock. */
  put(name: string, value: string): void {
    const old = this.parameters.get(name);
    this.parameters.set(name, { value, version: (old?.version ?? 0) + 1, modifiedMs: this.serverNowMs });
  }

  valueOf(name: string): Record<string, unknown> | undefined {
    const parameter = this.parameters.get(name);
    return parameter ? (JSON.parse(parameter.value) as Record<string, unknown>) : undefined;
  }

  names(): string[] {
    return [...this.parameters.keys()].sort();
  }

  #handle(request: HttpRequest): HttpResponse {
    this.serverNowMs += 1;
    const operation = targetOf(request);
    const input = inputOf(request);
    const name = String(input.Name ?? input.Path ?? '');
    this.calls.push({
      operation,
      name,
      ...(operation === 'PutParameter' ? { overwrite: input.Overwrite === true } : {}),
    });
    const fault = this.faults.find(
      (candidate) => candidate.count > 0 && candidate.operation === operation && (candidate.name?.test(name) ?? true),
    );
    if (fault) fault.count--;
    if (fault && typeof fault.kind === 'object') fault.kind.before(this);
    if (fault?.kind === 'throttle') return reply(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    if (fault?.kind === 'server-error') return reply(500, { __type: 'InternalServerError', message: 'internal error' });
    if (fault?.kind === 'access-denied') {
      return reply(400, { __type: 'AccessDeniedException', message: `not authorized to perform ssm:${operation}` });
    }
    const answer = this.#apply(operation, input);
    if (fault?.kind === 'lose-reply') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    return answer;
  }

  #apply(operation: string, input: Record<string, unknown>): HttpResponse {
    if (operation === 'PutParameter') return this.#putParameter(input);
    if (operation === 'GetParametersByPath') return this.#getByPath(input);
    if (operation === 'DeleteParameter') {
      if (!this.parameters.delete(String(input.Name))) {
        return reply(400, { __type: 'ParameterNotFound', message: 'not found' });
      }
      return reply(200, {});
    }
    return reply(400, { __type: 'InvalidAction', message: operation });
  }

  #putParameter(input: Record<string, unknown>): HttpResponse {
    const name = String(input.Name);
    if (this.parameters.has(name) && input.Overwrite !== true) {
      return reply(400, { __type: 'ParameterAlreadyExists', message: 'exists' });
    }
    this.put(name, String(input.Value));
    return reply(200, { Version: this.parameters.get(name)?.version, Tier: 'Standard' });
  }

  #getByPath(input: Record<string, unknown>): HttpResponse {
    const path = String(input.Path);
    const names = this.names().filter((name) => name.startsWith(`${path}/`));
    const start = Number(input.NextToken ?? 0);
    const page = names.slice(start, start + PAGE_SIZE).map((name) => {
      const { value, version, modifiedMs } = this.parameters.get(name) as StoredParameter;
      return { Name: name, Type: 'String', Value: value, Version: version, LastModifiedDate: modifiedMs / 1000 };
    });
    return reply(200, {
      Parameters: page,
      ...(start + PAGE_SIZE < names.length ? { NextToken: String(start + PAGE_SIZE) } : {}),
    });
  }
}

/**
 * A host's timing for the lock. Its monotonic clock runs at the service's
 * rate from an origin of its own (only durations mean anything on it); its
 * sleeps let time pass for everyone, and are recorded.
 */
export class FakeTiming implements LockTiming {
  readonly sleeps: number[] = [];
  readonly #ssm: FakeSsm;
  readonly #random: () => number;

  constructor(ssm: FakeSsm, random: () => number = () => 0.5) {
    this.#ssm = ssm;
    this.#random = random;
  }

  monotonicMs(): number {
    return this.#ssm.serverNowMs - 1_700_000_000_000;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.#ssm.serverNowMs += ms;
  }

  random(): number {
    return this.#random();
  }
}
