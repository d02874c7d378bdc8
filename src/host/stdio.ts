import { readFileSync, writeSync } from 'node:fs';

/** Where a command's data or log lines go: all that is asked of stdout and stderr. */
export interface TextSink {
  write(data: string | Uint8Array): unknown;
}

type WriteFd = (fd: number, data: Uint8Array) => number;

/**
 * Standard output or error written straight to its file descriptor. Creating
 * process.stdout or process.stderr loads node's stream modules, 4 ms of every
 * start (docs/benchmarks.md), and node writes to files, pipes and terminals
 * synchronously on Linux anyway. A descriptor that cannot take the text now
 * (EAGAIN: a non-blocking pipe) hands the rest, and everything written after
 * it, to node's stream, which queues it in order.
 */
export function descriptorSink(fd: number, stream: () => TextSink, writeFd: WriteFd = writeSync): TextSink {
  let queued: TextSink | null = null;
  return {
    write(text) {
      if (queued) return queued.write(text);
      let data: Uint8Array = typeof text === 'string' ? Buffer.from(text) : text;
      try {
        while (data.length > 0) data = data.subarray(writeFd(fd, data));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        queued = stream();
        return queued.write(data); // bytes: the write may have stopped inside a character
      }
      return true;
    },
  };
}

/** All of standard input as text, once it is closed: what a parent process handed over (a job's request). */
export function readStandardInput(): string {
  return readFileSync(0, 'utf8');
}
