import type { Batch, HostEvent, HostStatus } from '../../../src/control/protocol.ts';
import { Receiver } from '../../../src/control/receiver.ts';
import type { HttpResponse, HttpServer, ServedRequest } from '../../../src/host/host.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import type { Sample } from '../../../src/metrics/sample.ts';

/**
 * The reference receiver on a real loopback port for the control integration
 * tests. `fault` may answer a request instead of the receiver; `stop` and
 * `start` take the endpoint away and bring it back on the same port.
 */
export type Fault = (request: ServedRequest) => Promise<HttpResponse | null> | HttpResponse | null;

export interface TestEndpoint {
  readonly url: string;
  readonly receiver: Receiver;
  /** New samples in arrival order. */
  readonly received: Sample[];
  readonly statuses: HostStatus[];
  /** New host events in arrival order. */
  readonly events: HostEvent[];
  fault: Fault;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startEndpoint(token: string | null = null, port = 0): Promise<TestEndpoint> {
  const host = new RealHost('/');
  const received: Sample[] = [];
  const statuses: HostStatus[] = [];
  const events: HostEvent[] = [];
  const receiver = new Receiver({
    onStoredEvents: async (_batch, fresh) => void events.push(...fresh),
    token,
    onStored: async (batch: Batch, fresh) => {
      received.push(...fresh);
      statuses.push(batch.status);
    },
  });
  let server: HttpServer | null = null;
  const endpoint = {
    url: '',
    receiver,
    received,
    statuses,
    events,
    fault: (() => null) as Fault,
    async start() {
      server = await host.serveHttp(
        {
          address: '127.0.0.1',
          port: Number(new URL(endpoint.url || 'http://x:0').port || port),
          maxBodyBytes: 4 * 2 ** 20,
        },
        async (request) => (await endpoint.fault(request)) ?? receiver.handle(request),
      );
      endpoint.url = server.url;
    },
    async stop() {
      await server?.close();
      server = null;
    },
  };
  await endpoint.start();
  return endpoint;
}
