/**
 * A loopback proxy in front of moto_server's SSM API that injects the faults
 * a real network and a throttled account produce: a reply lost after SSM
 * applied the write (the connection dropped), a reply held while the caller
 * is killed, and ThrottlingException instead of an answer.
 */
import { createServer, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export type ProxyFaultKind =
  /** Forwarded and applied; the caller's connection is then cut, no reply. */
  | 'drop-reply'
  /** Answered 400 ThrottlingException without forwarding. */
  | 'throttle';

export interface ProxyFault {
  readonly operation: string;
  /** Matched against the request's Name (or Path). */
  readonly name?: RegExp;
  readonly kind: ProxyFaultKind;
  /** Runs after the request was applied and before its reply is dropped (e.g. to kill the caller). */
  readonly whenApplied?: () => void;
  count: number;
}

export interface ProxiedCall {
  readonly operation: string;
  readonly name: string;
  /** The HTTP status passed on, or the fault injected. */
  readonly outcome: number | ProxyFaultKind;
}

export interface SsmProxy {
  readonly url: string;
  readonly faults: ProxyFault[];
  readonly calls: ProxiedCall[];
}

export async function startSsmProxy(t: TestContext, upstream: string): Promise<SsmProxy> {
  const faults: ProxyFault[] = [];
  const calls: ProxiedCall[] = [];
  const target = new URL(upstream);
  const server = createServer((request, response) => {
    void handle(request, response).catch(() => response.destroy());
  });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readAll(request);
    const operation =
      String(request.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const input = JSON.parse(body.toString('utf8') || '{}') as { Name?: string; Path?: string };
    const name = input.Name ?? input.Path ?? '';
    const fault = faults.find(
      (candidate) => candidate.count > 0 && candidate.operation === operation && (candidate.name?.test(name) ?? true),
    );
    if (fault) fault.count--;
    if (fault?.kind === 'throttle') {
      calls.push({ operation, name, outcome: 'throttle' });
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'proxy-throttled' });
      return void response.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
    }
    const reply = await forward(target, request, body);
    if (fault?.kind === 'drop-reply') {
      calls.push({ operation, name, outcome: 'drop-reply' });
      fault.whenApplied?.();
      return void response.socket?.destroy();
    }
    calls.push({ operation, name, outcome: reply.status });
    response.writeHead(reply.status, reply.headers);
    response.end(reply.body);
  };
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  t.after(() => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return closed;
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, faults, calls };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

function forward(target: URL, request: IncomingMessage, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...request.headers,
      host: target.host,
      'content-length': String(body.length),
      connection: 'close',
    };
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers },
      (reply) => {
        void readAll(reply).then(
          (data) => resolve({ status: reply.statusCode ?? 502, headers: copyHeaders(reply.headers), body: data }),
          reject,
        );
      },
    );
    upstream.once('error', reject);
    upstream.end(body);
  });
}

function copyHeaders(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const copied: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection') copied[name] = value;
  }
  return copied;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
