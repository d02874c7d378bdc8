import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * A command run with node:child_process: an argument array, never a shell. The real Host turns what this returns
 * into its results and errors; this file knows processes, pipes and signals only.
 */

/** How long a command past its timeout, or stopped, has between SIGTERM and SIGKILL. */
export const KILL_AFTER_MS = 5000;
/** The most a command's stdout or stderr (or one stdout line) may hold; past it the command is stopped. */
export const MAX_OUTPUT_CHARS = 100_000_000;

export interface ProcessOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly input?: string;
  readonly cwd?: string;
  /** See ExecOptions.signal: SIGTERM, then SIGKILL, to the command's process group. */
  readonly signal?: AbortSignal;
  /** See ExecOptions.terminate: SIGTERM to the command alone. */
  readonly terminate?: AbortSignal;
  readonly onLine?: (line: string) => void;
}

export interface ProcessEnd {
  /** Null when a signal ended it or it never started. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it could not be started (ENOENT, EACCES), or null when it ran. */
  readonly startError: string | null;
  readonly timedOut: boolean;
  /** The stream that passed MAX_OUTPUT_CHARS, when one did. */
  readonly overflowed: 'stdout' | 'stderr' | null;
  /** What onLine threw, if it did: the command runs on, its lines no longer handed over. */
  readonly lineError: unknown;
}

/**
 * Runs a command to its end: its exit and the end of its output. It runs in a process group of its own when a
 * signal or terminate is given (so a stop reaches the helpers it forks, apt's download methods, and a signal for
 * the agent's group does not reach it), and is never killed because the agent exits: a package manager the agent
 * started finishes its transaction even when the agent stops or its own package is upgraded.
 */
export function runProcess(command: string, args: readonly string[], options: ProcessOptions): Promise<ProcessEnd> {
  const { spawn } = process.getBuiltinModule('node:child_process');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: options.signal !== undefined || options.terminate !== undefined,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
  } catch (error) {
    // Node throws, rather than emits, the errors it does not expect of a start (a NUL byte in an argument).
    const startError = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return Promise.resolve(notStarted(startError));
  }
  return new Promise((resolve) => watch(child, options, resolve));
}

function watch(child: ChildProcess, options: ProcessOptions, resolve: (end: ProcessEnd) => void): void {
  // A command stopped past its deadline or its output limit ends with its pipes, even if a process it forked
  // keeps them open.
  const release = () => {
    for (const pipe of [child.stdout, child.stderr]) pipe?.destroy();
  };
  const stopOrRelease = () => (hasExited(child) ? release() : stopProcess(child));
  let overflowed: ProcessEnd['overflowed'] = null;
  const overflow = (stream: 'stdout' | 'stderr') => () => {
    overflowed ??= stream;
    stopOrRelease();
  };
  const { onLine } = options;
  const stdout = onLine === undefined ? collect(child.stdout, overflow('stdout')) : null;
  const lines = onLine === undefined ? null : splitLines(child.stdout, onLine, overflow('stdout'));
  const stderr = collect(child.stderr, overflow('stderr'));
  writeInput(child, options.input);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    stopOrRelease();
  }, options.timeoutMs);
  const { pid } = child;
  const stopped = pid === undefined || options.signal === undefined ? null : killGroupOnAbort(pid, options.signal);
  const { terminate } = options;
  const terminated = pid === undefined || terminate === undefined ? null : terminateOnAbort(pid, terminate);
  const end = (result: ProcessEnd) => {
    clearTimeout(deadline);
    stopped?.();
    terminated?.();
    resolve(result);
  };
  child.on('error', (error: NodeJS.ErrnoException) => {
    // Only a failed start ends the run here; a failed kill (the process already gone) changes nothing.
    if (pid === undefined) end(notStarted(error.code ?? error.message));
  });
  child.on('exit', () => {
    if (timedOut || overflowed !== null) release();
  });
  child.on('close', (exitCode: number | null, signal: NodeJS.Signals | null) => {
    if (pid === undefined) return;
    lines?.flush();
    const output = { stdout: stdout?.text() ?? '', stderr: stderr.text() };
    end({ exitCode, signal, ...output, startError: null, timedOut, overflowed, lineError: lines?.error() ?? null });
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function notStarted(startError: string): ProcessEnd {
  const none = { stdout: '', stderr: '', timedOut: false, overflowed: null, lineError: null };
  return { exitCode: null, signal: null, startError, ...none };
}

/** A command that does not read all its input (it exits first: EPIPE) has simply not read it. */
function writeInput(child: ChildProcess, input: string | undefined): void {
  if (input === undefined || child.stdin === null) return;
  child.stdin.on('error', () => {});
  child.stdin.end(input);
}

/** SIGTERM to the command, then SIGKILL if it is still there a few seconds later. */
function stopProcess(child: ChildProcess): void {
  child.kill('SIGTERM');
  const forced = setTimeout(() => {
    if (!hasExited(child)) child.kill('SIGKILL');
  }, KILL_AFTER_MS);
  child.once('exit', () => clearTimeout(forced));
}

/** A stream's text, decoded as UTF-8 across chunks, up to the limit; past it, onOverflow once and no more text. */
function collect(stream: Readable | null, onOverflow: () => void): { text(): string } {
  const chunks: string[] = [];
  let length = 0;
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    if (length > MAX_OUTPUT_CHARS) return;
    length += chunk.length;
    if (length > MAX_OUTPUT_CHARS) onOverflow();
    else chunks.push(chunk);
  });
  return { text: () => chunks.join('') };
}

/**
 * Each line of a stream to onLine as it comes, without its newline (`\n` or `\r\n`), the last one even without
 * one; nothing kept. A line longer than the limit stops the command.
 */
function splitLines(stream: Readable | null, onLine: (line: string) => void, onOverflow: () => void) {
  let pending = '';
  let failure: { readonly error: unknown } | null = null;
  const hand = (line: string) => {
    if (failure !== null) return;
    try {
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    } catch (error) {
      failure = { error };
    }
  };
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      hand(pending + chunk.slice(start, end));
      pending = '';
      start = end + 1;
    }
    pending += chunk.slice(start);
    if (pending.length > MAX_OUTPUT_CHARS) {
      pending = '';
      onOverflow();
    }
  });
  return {
    flush: () => {
      if (pending !== '') hand(pending);
      pending = '';
    },
    error: () => failure?.error ?? null,
  };
}

/**
 * On abort: SIGTERM to the process group, SIGKILL to what is left of it a few seconds later. The returned
 * function, called once the command exited, ends the wait and removes stragglers of a stopped group at once.
 */
function killGroupOnAbort(pid: number, signal: AbortSignal): () => void {
  let forced: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    sendSignal(pid, 'SIGTERM');
    forced = setTimeout(() => sendSignal(pid, 'SIGKILL'), KILL_AFTER_MS);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    signal.removeEventListener('abort', onAbort);
    clearTimeout(forced);
    if (signal.aborted) sendSignal(pid, 'SIGKILL');
  };
}

/** On abort: SIGTERM to the process alone, once, which stops in order. The returned function ends the watch. */
function terminateOnAbort(pid: number, signal: AbortSignal): () => void {
  const onAbort = () => sendSignal(pid, 'SIGTERM', 'process');
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** The signal to the process group (or the process alone); one already gone (ESRCH) is what was wanted. */
function sendSignal(pid: number, signal: NodeJS.Signals, what: 'group' | 'process' = 'group'): void {
  try {
    process.kill(what === 'group' ? -pid : pid, signal);
  } catch {
    // nothing left to stop
  }
}
