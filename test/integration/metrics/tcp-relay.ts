import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

import { freePort } from './free-port.ts';

/** A TCP relay to a loopback server, on a port of its own: down() refuses connections, up() relays again. */
export async function relay(t: TestContext, target: string) {
  const { port: targetPort } = new URL(target);
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const up = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(targetPort), '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server?.once('error', reject).listen(port, '127.0.0.1', resolve));
  };
  const down = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (server === null ? resolve(null) : server.close(resolve)));
    server = null;
  };
  t.after(down);
  await up();
  return { url: `http://127.0.0.1:${port}`, up, down };
}
