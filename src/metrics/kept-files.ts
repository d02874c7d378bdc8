import type { FileReader, Host } from '../host/host.ts';

/**
 * The /proc files every sample reads, kept open between samples: reading an
 * open file again from offset 0 costs a fraction of readFile's open, fstat,
 * read and close each time (npm run bench:metrics). A read that fails is tried
 * once more on a freshly opened file, so a handle gone bad heals itself.
 */
export class KeptFiles {
  readonly #host: Host;
  readonly #readers = new Map<string, Promise<FileReader>>();

  constructor(host: Host) {
    this.#host = host;
  }

  async read(path: string): Promise<string> {
    const kept = this.#readers.get(path);
    if (kept !== undefined) {
      try {
        return await (await kept).read();
      } catch {
        this.#discard(path, kept);
      }
    }
    return (await this.#reader(path)).read();
  }

  /** Closes every file; a later read opens it again. */
  async close(): Promise<void> {
    const readers = [...this.#readers.values()];
    this.#readers.clear();
    await Promise.all(readers.map(closeQuietly));
  }

  #reader(path: string): Promise<FileReader> {
    let reader = this.#readers.get(path);
    if (reader === undefined) {
      reader = this.#host.openReader(path);
      this.#readers.set(path, reader);
    }
    return reader;
  }

  #discard(path: string, reader: Promise<FileReader>): void {
    if (this.#readers.get(path) === reader) this.#readers.delete(path);
    void closeQuietly(reader);
  }
}

/** A reader that failed to open, or a handle that already failed, has nothing worth reporting on close. */
function closeQuietly(reader: Promise<FileReader>): Promise<void> {
  return reader.then((opened) => opened.close()).catch(() => {});
}
