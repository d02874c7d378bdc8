/**
 * Loopback stand-ins for what doctor and decommission talk to on an instance:
 * IMDSv2, HTTPS endpoints (a self-signed certificate made with openssl) and
 * an HTTP CONNECT proxy. Everything listens on 127.0.0.1 and is closed when
 * the test ends.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';

import { scratchDir } from '../../support/scratch.ts';

export const IMDS_TOKEN = 'loopback-imds-token';

export interface Loopback {
  readonly url: string;
  readonly port: number;
}

export interface ImdsServer extends Loopback {
  /** Path → answer; anything else is 404. */
  readonly paths: Map<string, string>;
}

/** IMDSv2 only: reads without the session token are refused. */
export async function startImds(t: TestContext, paths: Record<string, string>): Promise<ImdsServer> {
  const answers = new Map(Object.entries(paths));
  const server = createHttpServer((request, response) => {
    if (request.method === 'PUT' && request.url === '/latest/api/token') return void response.end(IMDS_TOKEN);
    if (request.headers['x-aws-ec2-metadata-token'] !== IMDS_TOKEN) return void response.writeHead(401).end();
    const answer = answers.get(request.url ?? '');
    if (answer === undefined) return void response.writeHead(404).end();
    response.end(answer);
  });
  return { ...(await listen(t, server, 'http')), paths: answers };
}

export interface Certificate {
  readonly certFile: string;
  readonly cert: string;
  readonly key: string;
}

/** openssl req's arguments for a new P-256 key, unencrypted: quick to make, accepted by every TLS peer here. */
export const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed certificate for 127.0.0.1 (and localhost). */
export function selfSignedCertificate(t: TestContext): Certificate {
  const dir = scratchDir(t, 'eha-cert-');
  const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** Completes TLS handshakes, then hangs up. */
export async function startTlsEndpoint(t: TestContext, certificate: Certificate): Promise<Loopback> {
  const server = createTlsServer({ cert: certificate.cert, key: certificate.key }, (socket) => socket.end());
  return listen(t, server, 'https');
}

/** Accepts connections and never says a word: the probe's deadline must end the wait. */
export async function startSilentServer(t: TestContext): Promise<Loopback> {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => void sockets.push(socket));
  t.after(() => sockets.forEach((socket) => socket.destroy()));
  return listen(t, server, 'https');
}

export interface ConnectProxy extends Loopback {
  /** The authorities asked for with CONNECT. */
  readonly tunnels: string[];
}

/** An HTTP proxy that tunnels CONNECT to loopback ports only, or refuses every tunnel. */
export async function startConnectProxy(t: TestContext, refuse = false): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets: Socket[] = [];
  const server = createTcpServer((client) => {
    sockets.push(client);
    client.once('data', (chunk) => {
      const authority = /^CONNECT (\S+) HTTP\/1\.1\r\n/.exec(chunk.toString('latin1'))?.[1] ?? '';
      tunnels.push(authority);
      const [host, port] = authority.split(':');
      if (refuse || host !== '127.0.0.1') return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      const upstream = connect(Number(port), '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        client.pipe(upstream).pipe(client);
      });
      sockets.push(upstream);
      upstream.on('error', () => client.destroy());
    });
  });
  t.after(() => sockets.forEach((socket) => socket.destroy()));
  return { ...(await listen(t, server, 'http')), tunnels };
}

async function listen(
  t: TestContext,
  server: Server | ReturnType<typeof createTcpServer>,
  scheme: string,
): Promise<Loopback> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  t.after(() => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if ('closeAllConnections' in server) server.closeAllConnections(); // fetch keeps connections alive
    return closed;
  });
  const { port } = server.address() as AddressInfo;
  return { url: `${scheme}://127.0.0.1:${port}`, port };
}
