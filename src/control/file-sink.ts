import { posix } from 'node:path';

import type { Host } from '../host/host.ts';
import type { Sample } from '../metrics/sample.ts';

/**
 * Without a control endpoint, samples (and host events) go to a newline-JSON
 * file, so the metrics job is useful out of the box (`tail -f`, jq, a log shipper). When the
 * file passes the size limit it becomes `<file>.1` (the previous `.1` is gone),
 * which bounds the disk it takes to twice the limit.
 */
export const SINK_MAX_BYTES = 16 * 2 ** 20;

export class FileSink<Item = Sample> {
  readonly #host: Host;
  readonly #path: string;
  readonly #maxBytes: number;
  #ready = false;

  constructor(host: Host, path: string, maxBytes = SINK_MAX_BYTES) {
    this.#host = host;
    this.#path = path;
    this.#maxBytes = maxBytes;
  }

  get path(): string {
    return this.#path;
  }

  async write(item: Item): Promise<void> {
    if (!this.#ready) {
      await this.#host.mkdir(posix.dirname(this.#path), { mode: 0o755 });
      this.#ready = true;
    }
    const line = `${JSON.stringify(item)}\n`;
    const size = (await this.#host.stat(this.#path))?.size ?? 0;
    if (size > 0 && size + Buffer.byteLength(line) > this.#maxBytes)
      await this.#host.rename(this.#path, `${this.#path}.1`);
    await this.#host.appendFile(this.#path, line, { mode: 0o640 });
  }
}
