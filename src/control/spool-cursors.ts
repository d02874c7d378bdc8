import { messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { Sample } from '../metrics/sample.ts';
import type { SpoolStatus } from './protocol.ts';
import type { Segment, Spool, SpooledBatch } from './spool.ts';

/**
 * One spool of samples, read by every sink that is on (the control endpoint, CloudWatch, remote write), each
 * from its own place. A sink's cursor is the sequence number of the last segment it is done with (delivered, or
 * refused by the sink and counted), kept in SPOOL_DIR/sinks/<sink>.json with the sink's drop and reject counters.
 * A segment is removed once every sink's cursor has passed it: a sink that is down holds back only what it has
 * not had, and the others go on from their own cursors.
 *
 * A cursor is written (atomically) when its counters change, and after a delivery when a segment it has passed
 * is still in the spool (another sink still needs it): then a crash would send that segment to this sink again.
 * When the delivery emptied the spool up to the cursor (every sink has it all, the usual case), the file may lag
 * behind; what it lags over is gone, so nothing is sent twice for it, and it saves an fsync'd write per sample.
 *
 * The caps (SPOOL_MAX_BYTES, SPOOL_MAX_AGE) are the spool's: when one sink's long outage fills it, the oldest
 * segments go (the working sinks delivered them long ago) and each sink counts the samples it lost. A crash
 * between a delivery and its cursor's write sends that batch again (at least once); segments every cursor has
 * passed but a crash left behind are removed at open. New segments are numbered after the highest cursor on disk
 * as well as after the highest segment, so no cursor lies ahead of a sample it has not had, even when the spool
 * emptied and the agent restarted (a cursor on disk may lag, never lead).
 *
 * The daemon forgets the cursors of sinks that were turned off; a one-shot command (`metrics --once --deliver`)
 * keeps them, and the segments they have not passed, so a run with other settings loses nothing of the daemon's.
 */
export interface SharedSpoolOptions {
  /** SPOOL_DIR: the cursors live in its `sinks` directory. */
  readonly dir: string;
  /** The sinks that are on, by name. */
  readonly sinks: readonly string[];
  /** Remove the cursors of sinks not in `sinks` (the daemon); otherwise they hold their segments. */
  readonly forgetOthers: boolean;
}

/** What a sink's delivery needs of the spool: the segments after its cursor, and a way to move the cursor on. */
export interface DeliverySpool {
  open(): Promise<void>;
  readonly empty: boolean;
  status(): SpoolStatus;
  oldest(maxSamples: number, maxBytes: number): Promise<SpooledBatch<Sample>>;
  /** The sink is done with these segments (the oldest it was given). */
  remove(segments: readonly Segment[]): Promise<void>;
  countRejected(samples: number): Promise<void>;
}

interface Cursor {
  sequence: number;
  droppedSamples: number;
  rejectedSamples: number;
  /** Writes of this cursor one after another: never an older state written last. */
  written: Promise<void>;
}

const CURSOR_FILE = /^([a-z][a-z0-9-]{0,31})\.json$/;
/** The only sink there was before there were several: it keeps the spool's old counters. */
const FIRST_SINK = 'control';

export class SharedSpool {
  readonly #host: Host;
  readonly #spool: Spool;
  readonly #options: SharedSpoolOptions;
  readonly #logger: Logger;
  readonly #cursors = new Map<string, Cursor>();
  /** Places of sinks that are off but not forgotten: they hold their segments. */
  readonly #kept = new Map<string, number>();
  #opened: Promise<void> | null = null;

  constructor(host: Host, spool: Spool, options: SharedSpoolOptions, logger: Logger) {
    this.#host = host;
    this.#spool = spool;
    this.#options = options;
    this.#logger = logger;
  }

  open(): Promise<void> {
    this.#opened ??= this.#open().catch((error: unknown) => {
      this.#opened = null;
      throw error;
    });
    return this.#opened;
  }

  async append(sample: Sample): Promise<void> {
    await this.open();
    await this.#spool.append([sample]);
  }

  /** The view of the spool one sink's delivery works on. */
  reader(sink: string): DeliverySpool {
    if (!this.#options.sinks.includes(sink)) throw new Error(`no cursor for sink ${sink}: it is not on`);
    return new SinkSpool(this, sink);
  }

  /** The whole spool: samples some sink still waits for, dropped before every sink had them, refused by any sink. */
  status(): SpoolStatus {
    const { pendingSamples, pendingBytes, droppedSamples } = this.#spool.status();
    const rejectedSamples = [...this.#cursors.values()].reduce((sum, cursor) => sum + cursor.rejectedSamples, 0);
    return { pendingSamples, pendingBytes, droppedSamples, rejectedSamples };
  }

  statusOf(sink: string): SpoolStatus {
    const cursor = this.#cursor(sink);
    const pending = this.#spool.pendingAfter(cursor.sequence);
    const { droppedSamples, rejectedSamples } = cursor;
    return { pendingSamples: pending.samples, pendingBytes: pending.bytes, droppedSamples, rejectedSamples };
  }

  oldestFor(sink: string, maxSamples: number, maxBytes: number): Promise<SpooledBatch<Sample>> {
    return this.#spool.oldest(maxSamples, maxBytes, this.#cursor(sink).sequence);
  }

  async advance(sink: string, segments: readonly Segment[]): Promise<void> {
    const cursor = this.#cursor(sink);
    cursor.sequence = Math.max(cursor.sequence, ...segments.map((segment) => segment.sequence));
    await this.#collect();
    const oldest = this.#spool.oldestSequence();
    if (oldest !== null && oldest <= cursor.sequence) await this.#write(sink, cursor);
  }

  async countRejected(sink: string, samples: number): Promise<void> {
    const cursor = this.#cursor(sink);
    cursor.rejectedSamples += samples;
    await this.#write(sink, cursor);
  }

  /** Cursors first, so that what the spool's caps drop as it opens is counted by the sinks that had not had it. */
  async #open(): Promise<void> {
    await this.#host.mkdir(this.#cursorDir, { mode: 0o700 });
    for (const name of await this.#host.readdir(this.#cursorDir)) {
      const sink = CURSOR_FILE.exec(name)?.[1];
      if (sink !== undefined) await this.#load(sink);
    }
    this.#spool.raiseSequence(Math.max(0, ...this.#places()));
    this.#spool.onDrop((segments) => this.#countDropped(segments));
    await this.#spool.open();
    const legacy = this.#spool.status();
    for (const sink of this.#options.sinks) {
      if (this.#cursors.has(sink)) continue;
      // A new sink starts at the oldest sample kept; the first sink of an older spool keeps that spool's counters.
      const { droppedSamples, rejectedSamples } =
        sink === FIRST_SINK ? legacy : { droppedSamples: 0, rejectedSamples: 0 };
      const cursor = { sequence: 0, droppedSamples, rejectedSamples, written: Promise.resolve() };
      this.#cursors.set(sink, cursor);
      // On disk at once: another process opening the spool (a one-shot command) keeps what this sink has not had.
      await this.#write(sink, cursor);
    }
    await this.#collect();
  }

  async #load(sink: string): Promise<void> {
    const path = this.#pathOf(sink);
    if (!this.#options.sinks.includes(sink)) {
      if (!this.#options.forgetOthers) this.#kept.set(sink, (await this.#read(path))?.sequence ?? 0);
      else {
        await this.#host.rm(path);
        this.#logger.info(`the ${sink} sink is off: its place in the spool ${this.#options.dir} is forgotten`);
      }
      return;
    }
    const state = await this.#read(path);
    if (state !== null) this.#cursors.set(sink, { ...state, written: Promise.resolve() });
  }

  /** A cursor that cannot be read starts the sink from the oldest sample kept: sent twice rather than lost. */
  async #read(path: string): Promise<Omit<Cursor, 'written'> | null> {
    try {
      const { sequence, droppedSamples, rejectedSamples } = JSON.parse(await this.#host.readText(path)) as Record<
        string,
        unknown
      >;
      const counts = [sequence, droppedSamples, rejectedSamples];
      if (counts.every((count) => Number.isSafeInteger(count) && (count as number) >= 0)) {
        return { sequence, droppedSamples, rejectedSamples } as Omit<Cursor, 'written'>;
      }
      this.#logger.warn(`${path} does not hold a spool cursor; that sink starts again from the oldest sample kept`);
    } catch (error) {
      this.#logger.warn(
        `${path} is unreadable (${messageOf(error)}); that sink starts again from the oldest sample kept`,
      );
    }
    return null;
  }

  #places(): number[] {
    return [...[...this.#cursors.values()].map((cursor) => cursor.sequence), ...this.#kept.values()];
  }

  /** Removes the segments every cursor has passed. */
  async #collect(): Promise<void> {
    const places = this.#places();
    if (places.length > 0) await this.#spool.removeThrough(Math.min(...places));
  }

  /** Each sink counts the dropped samples it had not had. */
  async #countDropped(segments: readonly Segment[]): Promise<void> {
    for (const [sink, cursor] of this.#cursors) {
      const lost = segments
        .filter((segment) => segment.sequence > cursor.sequence)
        .reduce((sum, segment) => sum + segment.samples, 0);
      if (lost === 0) continue;
      cursor.droppedSamples += lost;
      await this.#write(sink, cursor);
    }
  }

  #cursor(sink: string): Cursor {
    const cursor = this.#cursors.get(sink);
    if (cursor === undefined) throw new Error(`the spool is not open, or ${sink} is not a sink that is on`);
    return cursor;
  }

  #write(sink: string, cursor: Cursor): Promise<void> {
    const write = () => {
      const { sequence, droppedSamples, rejectedSamples } = cursor;
      const text = `${JSON.stringify({ sequence, droppedSamples, rejectedSamples })}\n`;
      return this.#host.writeFileAtomic(this.#pathOf(sink), text, { mode: 0o600 });
    };
    const written = cursor.written.then(write);
    cursor.written = written.catch(() => {});
    return written;
  }

  get #cursorDir(): string {
    return `${this.#options.dir}/sinks`;
  }

  #pathOf(sink: string): string {
    return `${this.#cursorDir}/${sink}.json`;
  }
}

/** One sink's view: the segments after its cursor. */
class SinkSpool implements DeliverySpool {
  readonly #shared: SharedSpool;
  readonly #sink: string;

  constructor(shared: SharedSpool, sink: string) {
    this.#shared = shared;
    this.#sink = sink;
  }

  open(): Promise<void> {
    return this.#shared.open();
  }

  get empty(): boolean {
    return this.#shared.statusOf(this.#sink).pendingSamples === 0;
  }

  status(): SpoolStatus {
    return this.#shared.statusOf(this.#sink);
  }

  oldest(maxSamples: number, maxBytes: number): Promise<SpooledBatch<Sample>> {
    return this.#shared.oldestFor(this.#sink, maxSamples, maxBytes);
  }

  remove(segments: readonly Segment[]): Promise<void> {
    return this.#shared.advance(this.#sink, segments);
  }

  countRejected(samples: number): Promise<void> {
    return this.#shared.countRejected(this.#sink, samples);
  }
}
