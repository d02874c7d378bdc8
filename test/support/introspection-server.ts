/**
 * A stand-in for the ECS agent's introspection API on a free loopback port.
 * `respond` may be replaced at any time, and sees how many requests came
 * before, so a test can make the agent "register" after a few polls.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IntrospectionReply {
  readonly status: number;
  /** Sent as JSON; a string is sent as it is (for malformed replies). */
  readonly body: unknown;
}

export type Responder = (requestsBefore: number) => IntrospectionReply;

export interface IntrospectionServer {
  readonly url: string;
  respond: Responder;
  readonly requests: number;
  close(): Promise<void>;
}

export function metadataReply(
  cluster: string,
  containerInstanceArn: string | null,
  version = 'Amazon ECS Agent - v1.99.0 (test)',
): IntrospectionReply {
  return { status: 200, body: { Cluster: cluster, ContainerInstanceArn: containerInstanceArn, Version: version } };
}

export async function startIntrospectionServer(respond: Responder): Promise<IntrospectionServer> {
  let requests = 0;
  const state = {
    respond,
    get requests() {
      return requests;
    },
  };
  const server = createServer((request, response) => {
    const reply = request.url === '/v1/metadata' ? state.respond(requests) : { status: 404, body: 'not found' };
    requests++;
    response.writeHead(reply.status, { 'content-type': 'application/json' });
    response.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
