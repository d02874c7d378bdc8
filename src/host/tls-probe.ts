import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

import type { TlsProbeRequest, TlsProbeResult } from './host.ts';

/**
 * The real Host's TLS probe: TCP connect (to the proxy when there is one),
 * CONNECT through the proxy, then a TLS handshake with the endpoint's name,
 * all within one deadline. The certificate is checked but not enforced, so a
 * TLS-intercepting proxy is reported as such rather than as "unreachable".
 */
export async function probeTls(request: TlsProbeRequest): Promise<TlsProbeResult> {
  const sockets: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${request.timeoutMs} ms`)), request.timeoutMs);
  });
  try {
    return await Promise.race([handshake(request, sockets), deadline]);
  } finally {
    clearTimeout(timer);
    // Outermost first: destroying a TCP socket under a live TLS socket crashes Node 24 (SIGSEGV at exit).
    for (const socket of sockets.reverse()) socket.destroy();
  }
}

async function handshake(request: TlsProbeRequest, sockets: Socket[]): Promise<TlsProbeResult> {
  const proxy = request.proxy === null ? null : new URL(request.proxy);
  const target = proxy ? { host: proxy.hostname, port: Number(proxy.port || 80) } : request;
  const tcp = await stage(`TCP connect to ${target.host}:${target.port}`, () =>
    openTcp(target.host, target.port, sockets),
  );
  if (proxy)
    await stage(`proxy CONNECT to ${request.host}:${request.port} via ${proxy.host}`, () =>
      tunnel(tcp, request, proxy),
    );
  const tls = await stage(`TLS handshake with ${request.host}`, () => startTls(tcp, request.host, sockets));
  return {
    protocol: tls.getProtocol(),
    certificateError: tls.authorized ? null : String(tls.authorizationError ?? 'certificate not trusted'),
  };
}

async function stage<T>(name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw new Error(`${name} failed: ${(error as Error).message}`);
  }
}

function openTcp(host: string, port: number, sockets: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host, port });
    sockets.push(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function tunnel(socket: Socket, request: TlsProbeRequest, proxy: URL): Promise<void> {
  const authority = `${request.host}:${request.port}`;
  const userinfo = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  const credentials = proxy.username
    ? `Proxy-Authorization: Basic ${Buffer.from(userinfo).toString('base64')}\r\n`
    : '';
  return new Promise((resolve, reject) => {
    let reply = '';
    const onData = (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1];
      if (status === '200') resolve();
      else reject(new Error(`the proxy answered ${JSON.stringify(reply.slice(0, reply.indexOf('\r\n')))}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error('the proxy closed the connection')));
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${credentials}\r\n`);
  });
}

function startTls(socket: Socket, host: string, sockets: Socket[]) {
  return new Promise<ReturnType<typeof connectTls>>((resolve, reject) => {
    // SNI carries names only; the certificate is still checked against an address.
    const tls = connectTls({ socket, host, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false });
    sockets.push(tls);
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', reject);
  });
}
