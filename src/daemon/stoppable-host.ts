import type { Clock } from './scheduler.ts';
import { StoppingError } from '../core/errors.ts';
import type { ExecOptions, ExecResult, Host, HttpRequest, HttpResponse } from '../host/host.ts';
import { describeDelay } from './task-log.ts';

/** A command a task is running now, for `status` and for the stop's log line. */
export interface RunningCommand {
  readonly argv: readonly string[];
  readonly interruptible: boolean;
  /** Wall-clock ms when it started. */
  readonly since: number;
}

export interface StoppableHost {
  /** What the daemon's tasks get instead of the Host itself. */
  readonly host: Host;
  /** Commands running through it now, oldest first. */
  running(): readonly RunningCommand[];
}

/**
 * The Host as the daemon's tasks see it. Once `signal` aborts (SIGTERM) nothing
 * new starts through it: a command, a wait or a request rejects with
 * StoppingError, so a task ends at its next step instead of going on.
 * Interruptible commands already running are killed (their process group);
 * any other command, an install say, is left to finish: the daemon waits for
 * it a bounded time and otherwise exits without it. File reads and writes go
 * through unchanged, so the daemon's own bookkeeping still works.
 */
export function stoppableHost(host: Host, signal: AbortSignal): StoppableHost {
  const running = new Set<RunningCommand>();
  const refuse = (what: string): never => {
    throw new StoppingError(`not started, the agent is stopping: ${what}`);
  };
  const untilStopped = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(new StoppingError('stopped waiting: the agent is stopping')), {
      once: true,
    });
  });
  untilStopped.catch(() => {}); // only ever awaited by a race

  const overrides = {
    async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      if (signal.aborted) refuse([file, ...args].join(' '));
      const command: RunningCommand = {
        argv: [file, ...args],
        interruptible: options.interruptible === true,
        since: host.now().getTime(),
      };
      running.add(command);
      try {
        return await host.exec(file, args, command.interruptible ? { ...options, signal } : options);
      } finally {
        running.delete(command);
      }
    },
    async sleep(ms: number): Promise<void> {
      if (signal.aborted) refuse(`a wait of ${ms} ms`);
      await Promise.race([host.sleep(ms), untilStopped]);
    },
    async http(request: HttpRequest): Promise<HttpResponse> {
      if (signal.aborted) refuse(`${request.method ?? 'GET'} ${request.url}`);
      return host.http(request);
    },
  } satisfies Partial<Host>;

  const proxy = new Proxy(host, {
    get(target, key, receiver) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof typeof overrides];
      const value: unknown = Reflect.get(target, key, receiver === proxy ? target : receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { host: proxy, running: () => [...running] };
}

/** "apt-get install -y docker.io (running 12 s), …" for the stop's log lines. */
export function describeCommands(commands: readonly RunningCommand[], clock: Clock): string {
  if (commands.length === 0) return 'the running task';
  return commands
    .map((command) => `${command.argv.join(' ')} (running ${describeDelay(clock.now() - command.since)})`)
    .join(', ');
}
