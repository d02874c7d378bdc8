/**
 * The reference receiver (`ecs-host-agent control-server --data-dir`, a real process) killed with SIGKILL in
 * the middle of a stream of samples and started again on the same data directory, four times: twice while a
 * batch is on its way in, twice right after it stored a batch and answered, with the answer lost. The agent's
 * side is the real delivery (spool on disk, DeliveryLoop, real clock); a loopback proxy in between does the
 * killing. Every sample id must be stored exactly once, in order.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { DeliveryLoop } from '../../../src/control/delivery-loop.ts';
import { systemClock } from '../../../src/daemon/clock.ts';
import { runCli } from '../../support/cli.ts';
import { CLI } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';
import { sample } from '../../unit/control/fixtures.ts';
import { pollUntil } from '../../support/poll.ts';
import { freePort } from '../metrics/free-port.ts';
import { agentSide } from './agent-side.ts';

/** Samples are taken every 15 ms until the four kills are done: at least MIN_SAMPLES, at most MAX_SAMPLES. */
const MIN_SAMPLES = 80;
const MAX_SAMPLES = 600;
/** POST /v1/samples requests (counted from 1) at which the receiver is killed. */
const KILL_WHILE_RECEIVING = new Set([4, 10]);
const KILL_AFTER_STORING = new Set([2, 7]);

interface Receiver {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
}

async function startReceiver(t: TestContext, dataDir: string): Promise<Receiver> {
  const listen = `127.0.0.1:${await freePort()}`;
  const args = [CLI, 'control-server', '--listen', listen, '--data-dir', dataDir, '--json', '--config', '/dev/null'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then(() => reject(new Error(`control-server exited with ${child.exitCode} before listening`)));
  });
  return { child, url, exited };
}

/** A loopback proxy to the current receiver that kills it at the chosen requests; 502 while it is down. */
async function startKillingProxy(t: TestContext, restart: () => Promise<Receiver>, first: Receiver) {
  let receiver: Receiver | null = first;
  let posts = 0;
  const kills = { whileReceiving: 0, afterStoring: 0 };
  const kill = (current: Receiver) => {
    receiver = null;
    current.child.kill('SIGKILL');
    void current.exited.then(restart).then((next) => void (receiver = next));
  };
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const current = receiver;
    if (current === null) return void outgoing.writeHead(502).end('receiver restarting');
    const count = incoming.method === 'POST' && incoming.url === '/v1/samples' ? ++posts : 0;
    const options = { method: incoming.method, headers: incoming.headers };
    const upstream = httpRequest(`${current.url}${incoming.url ?? '/'}`, options, (reply) => {
      const chunks: Buffer[] = [];
      reply.on('data', (chunk: Buffer) => chunks.push(chunk));
      reply.on('end', () => {
        if (KILL_AFTER_STORING.has(count)) {
          kills.afterStoring++;
          kill(current);
          return void outgoing.socket?.destroy(); // stored and answered, but the answer never arrives
        }
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers).end(Buffer.concat(chunks));
      });
    });
    upstream.on('error', () => void (outgoing.headersSent || outgoing.writeHead(502).end('receiver gone')));
    incoming.pipe(upstream);
    incoming.on('end', () => {
      if (!KILL_WHILE_RECEIVING.has(count)) return;
      kills.whileReceiving++;
      kill(current);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const stop = async () => {
    await pollUntil(() => receiver !== null, 'the receiver to be up');
    const last = receiver as Receiver;
    last.child.kill('SIGTERM');
    await last.exited;
  };
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, kills, stop, posts: () => posts };
}

test('a receiver killed mid-stream, restarted on the same data directory, stores every sample id once', async (t) => {
  const dir = scratchDir(t);
  const dataDir = join(dir, 'control');
  const proxy = await startKillingProxy(t, () => startReceiver(t, dataDir), await startReceiver(t, dataDir));
  const { delivery, accept } = agentSide(dir, proxy.url, { backoff: { baseMs: 20, maxMs: 200, probeMs: 50 } });
  const loop = new DeliveryLoop(delivery, systemClock);
  t.after(() => loop.stop());
  loop.start();
  const sent: string[] = [];
  const killed = () => proxy.kills.whileReceiving + proxy.kills.afterStoring === 4;
  for (let i = 1; i <= MAX_SAMPLES && (i <= MIN_SAMPLES || !killed()); i++) {
    const next = sample(i, new Date());
    await accept(next);
    sent.push(next.id);
    loop.kick();
    await delay(15);
  }
  const drained = () => delivery.state().spool.pendingSamples === 0 && delivery.state().attemptSince === null;
  await pollUntil(drained, 'the spool to drain', 60_000);
  await loop.stop();
  await proxy.stop();

  assert.deepEqual(proxy.kills, { whileReceiving: 2, afterStoring: 2 }, `killed 4 times in ${proxy.posts()} requests`);
  const print = ['control-server', '--data-dir', dataDir, '--print', 'samples', '--config', '/dev/null'];
  const printed = await runCli(print);
  assert.equal(printed.status, 0, printed.stderr);
  const stored = printed.stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: string }).id);
  const twice = stored.filter((id, index) => stored.indexOf(id) !== index);
  const missing = sent.filter((id) => !stored.includes(id));
  assert.deepEqual({ twice, missing }, { twice: [], missing: [] }, 'every sample id stored exactly once');
  assert.deepEqual(stored, sent, 'in the order taken');
  assert.ok(delivery.state().duplicates >= 2, 'batches whose answer was lost, re-sent, were known after the restart');
});
