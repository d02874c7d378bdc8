import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback proxy in front of moto_server that counts the SSM calls the agent makes (by X-Amz-Target) and can
 * answer some of them as SSM does when its rate is exceeded, to see them retried. Everything else is moto's.
 */
export interface SsmProxy {
  readonly endpoint: string;
  /** Calls seen (throttled ones included), by action: { GetParametersByPath: 100 }. */
  readonly calls: Map<string, number>;
  total(): number;
  reset(): void;
  /** The next `count` calls of `action` are answered 400 ThrottlingException (Infinity: all of them). */
  throttle(action: string, count: number): void;
  /** The next call of `action` waits, unanswered, until released: a job caught in the middle of a call. */
  hold(action: string): Held;
  close(): Promise<void>;
}

export interface Held {
  /** Settles when the call came. */
  readonly arrived: Promise<void>;
  /** Forwards it to moto. */
  release(): void;
}

interface Hold {
  readonly arrived: () => void;
  readonly released: Promise<void>;
}

function newHold(): { held: Held; hold: Hold } {
  let arrived = () => {};
  let release = () => {};
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { held: { arrived: arrival, release }, hold: { arrived, released } };
}

export async function startSsmProxy(motoEndpoint: string): Promise<SsmProxy> {
  const target = new URL(motoEndpoint);
  const calls = new Map<string, number>();
  const throttled = new Map<string, number>();
  const holds = new Map<string, Hold>();
  const server = createServer(async (incoming, outgoing) => {
    const action = String(incoming.headers['x-amz-target'] ?? '').replace(/^AmazonSSM\./, '') || incoming.url || '';
    calls.set(action, (calls.get(action) ?? 0) + 1);
    const left = throttled.get(action) ?? 0;
    if (left > 0) {
      throttled.set(action, left - 1);
      incoming.resume();
      const body = JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' });
      outgoing
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ThrottlingException' })
        .end(body);
      return;
    }
    const hold = holds.get(action);
    if (hold !== undefined) {
      holds.delete(action);
      hold.arrived();
      await hold.released;
    }
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (reply) => {
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => outgoing.writeHead(502).end(String(error)));
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    total: () => [...calls.values()].reduce((sum, n) => sum + n, 0),
    reset: () => calls.clear(),
    throttle: (action, count) => void throttled.set(action, count),
    hold(action) {
      const { held, hold } = newHold();
      holds.set(action, hold);
      return held;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
