import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A stand-in for systemd's notification socket: a unix datagram socket (Node
 * has none, so python3 holds it) that collects every message sent to it.
 */
export interface NotifySocket {
  readonly path: string;
  readonly messages: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(65536).decode()
    print(data.replace("\\n", " "), flush=True)
`;

export async function startNotifySocket(path: string): Promise<NotifySocket> {
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let buffered = '';
  const waiters: (() => void)[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    messages.push(...lines);
    for (const wake of waiters.splice(0)) wake();
  });
  const socket: NotifySocket = {
    path,
    messages,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = messages.find((message) => pattern.test(message));
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no notification matching ${pattern} (got ${JSON.stringify(messages)})`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    async close() {
      child.kill();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
  await socket.waitFor(/^listening$/);
  return socket;
}
