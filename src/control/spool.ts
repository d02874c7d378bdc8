import { createHash, randomUUID } from 'node:crypto';

import { messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { Sample } from '../metrics/sample.ts';
import type { SpoolStatus } from './protocol.ts';
import { shownText } from './shown.ts';

/**
 * A durable queue of items (samples, events) the endpoint has not acknowledged. Each segment
 * is one file, written whole (temporary file, fsync, hard link to its name,
 * fsync of the directory), named `<sequence>-<oldest sample ms>-<samples>.seg`
 * so the caps are enforced from a directory listing. A segment starts with a
 * header line holding the SHA-256 of the rest: a segment torn by a crash or a
 * disk is detected, removed and counted as dropped, never fatal. Bounded by
 * size and age, oldest dropped first; the counters survive restarts in counters.json.
 *
 * Two processes may append to one spool at once (the daemon and decommission):
 * each picks sequence numbers from its own listing, so both may pick the same
 * name. A link, unlike a rename, never replaces: the second takes the next
 * number instead of overwriting the first's segment. A segment another process
 * delivered and removed meanwhile is simply gone, not counted as dropped.
 */
export interface SpoolSettings {
  readonly dir: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  /** What the items are called in the log ("samples" when not given). */
  readonly noun?: string;
}

/** What a spool keeps: anything with an id and the time it was made. */
export interface SpoolItem {
  readonly id: string;
  readonly time: string;
}

export interface Segment {
  readonly name: string;
  readonly sequence: number;
  readonly oldestMs: number;
  readonly samples: number;
  readonly bytes: number;
}

export interface SpooledBatch<Item extends SpoolItem = Sample> {
  readonly segments: readonly Segment[];
  readonly items: readonly Item[];
}

interface Counters {
  droppedSamples: number;
  rejectedSamples: number;
}

const SEGMENT_NAME = /^(\d{12})-(\d{1,15})-(\d{1,6})\.seg$/;
const COUNTERS_FILE = 'counters.json';
const FORMAT = 'ecs-host-agent-spool';
/** A writer's temporary file lives for one write and fsync; an older one is left over from a crash. */
const STALE_TEMPORARY_MS = 10 * 60_000;
/** Names taken in a row before giving up: only another writer racing for the very same names takes one. */
const MAX_NAME_ATTEMPTS = 1000;

export class Spool<Item extends SpoolItem = Sample> {
  readonly #host: Host;
  readonly #settings: SpoolSettings;
  readonly #logger: Logger;
  #segments: Segment[] = [];
  /** The highest sequence number listed, published or found taken. */
  #lastSequence = 0;
  #counters: Counters = { droppedSamples: 0, rejectedSamples: 0 };
  #opened = false;
  /** Counter writes one after another, each with the counts as they are then: never an older count written last. */
  #countersWritten: Promise<void> = Promise.resolve();
  #dropListeners: ((segments: readonly Segment[]) => Promise<void>)[] = [];

  constructor(host: Host, settings: SpoolSettings, logger: Logger) {
    this.#host = host;
    this.#settings = settings;
    this.#logger = logger;
  }

  /** Lists what an earlier run left (removing temporary files a crash left) and applies the caps. */
  async open(): Promise<void> {
    if (this.#opened) return;
    const dir = this.#settings.dir;
    await this.#host.mkdir(dir, { mode: 0o700 });
    for (const name of await this.#host.readdir(dir)) {
      if (name.startsWith('.') && name.endsWith('.tmp')) await this.#removeIfStale(`${dir}/${name}`);
    }
    this.#segments = await this.#list(new Set());
    this.#lastSequence = Math.max(this.#lastSequence, this.#segments.at(-1)?.sequence ?? 0);
    this.#counters = await this.#readCounters();
    this.#opened = true;
    await this.#enforceCaps();
  }

  /** The segments in the directory but those named in `known`, oldest first. */
  async #list(known: ReadonlySet<string>): Promise<Segment[]> {
    const dir = this.#settings.dir;
    const segments: Segment[] = [];
    for (const name of await this.#host.readdir(dir)) {
      const match = SEGMENT_NAME.exec(name);
      const info = match && !known.has(name) && (await this.#host.stat(`${dir}/${name}`));
      if (!match || !info) continue;
      const [sequence, oldestMs, samples] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
      segments.push({ name, sequence, oldestMs, samples, bytes: info.size });
    }
    return segments.sort((a, b) => a.sequence - b.sequence);
  }

  /** New segments are numbered after this one at least: no reader's place (spool-cursors.ts) lies ahead of them. */
  raiseSequence(sequence: number): void {
    this.#lastSequence = Math.max(this.#lastSequence, sequence);
  }

  /** Called with the segments dropped for the caps or found torn, after they are gone. */
  onDrop(listener: (segments: readonly Segment[]) => Promise<void>): void {
    this.#dropListeners.push(listener);
  }

  get empty(): boolean {
    return this.#segments.length === 0;
  }

  status(): SpoolStatus {
    const { samples, bytes } = this.pendingAfter(0);
    return { pendingSamples: samples, pendingBytes: bytes, ...this.#counters };
  }

  async append(samples: readonly Item[]): Promise<void> {
    if (samples.length === 0) return;
    const oldestMs = Math.min(...samples.map((sample) => Date.parse(sample.time)));
    const data = encodeSegment(samples);
    const temporary = `${this.#settings.dir}/.${randomUUID()}.seg.tmp`;
    if (!(await this.#host.createExclusive(temporary, data, { mode: 0o600 })))
      throw new Error(`${temporary} already exists`);
    try {
      const published = { oldestMs, samples: samples.length, bytes: Buffer.byteLength(data) };
      const segment = await this.#publish(temporary, published);
      // Joined after the await: a round may have replaced the list meanwhile (remove), and this must join the new one.
      this.#join([segment]);
    } finally {
      await this.#host.rm(temporary);
    }
    await this.#enforceCaps();
  }

  /**
   * Links the written temporary file to a free segment name from the next sequence number on. Another process
   * appending to the spool (`metrics --once --deliver` beside the daemon) numbers from its own listing, so both may
   * pick one sequence number under different names (the oldest time and count differ). A number must name one
   * segment, since the sinks' cursors are numbers (spool-cursors.ts): a writer that finds another segment with its
   * number right after linking moves its own to a later number. Either way the other writer's segments join the list.
   */
  async #publish(temporary: string, segment: Omit<Segment, 'name' | 'sequence'>): Promise<Segment> {
    for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
      const sequence = ++this.#lastSequence;
      const name = `${String(sequence).padStart(12, '0')}-${segment.oldestMs}-${segment.samples}.seg`;
      const path = `${this.#settings.dir}/${name}`;
      if (!(await this.#host.linkExclusive(temporary, path))) continue;
      const others = await this.#list(new Set([...this.#segments.map((known) => known.name), name]));
      this.#join(others);
      if (!others.some((other) => other.sequence === sequence)) return { ...segment, name, sequence };
      this.raiseSequence(Math.max(...others.map((other) => other.sequence)));
      await this.#host.rm(path);
    }
    throw new Error(
      `spool ${this.#settings.dir}: ${MAX_NAME_ATTEMPTS} segment names in a row were taken by another writer`,
    );
  }

  #join(segments: readonly Segment[]): void {
    const fresh = segments.filter((segment) => !this.#segments.some((known) => known.name === segment.name));
    if (fresh.length > 0) this.#segments = [...this.#segments, ...fresh].sort((a, b) => a.sequence - b.sequence);
  }

  async #removeIfStale(path: string): Promise<void> {
    const info = await this.#host.stat(path);
    if (info !== null && info.mtimeMs < this.#host.now().getTime() - STALE_TEMPORARY_MS) await this.#host.rm(path);
  }

  /**
   * The oldest segments numbered after `after`, up to the limits (at least one segment); torn ones are removed and
   * counted on the way.
   */
  async oldest(maxSamples: number, maxBytes: number, after = 0): Promise<SpooledBatch<Item>> {
    const segments: Segment[] = [];
    const samples: Item[] = [];
    let bytes = 0;
    for (const segment of this.#segments.filter((s) => s.sequence > after)) {
      const full = samples.length + segment.samples > maxSamples || bytes + segment.bytes > maxBytes;
      // Segments sharing a number (two writers, and a crash before one renumbered) go together: a cursor passes both.
      if (segments.length > 0 && full && segment.sequence !== segments.at(-1)?.sequence) break;
      const read = await this.#read(segment);
      if (read === null) continue;
      segments.push(segment);
      samples.push(...read);
      bytes += segment.bytes;
    }
    return { segments, items: samples };
  }

  /** Samples and bytes of the segments numbered after `after`. */
  pendingAfter(after: number): { readonly samples: number; readonly bytes: number } {
    let samples = 0;
    let bytes = 0;
    for (const segment of this.#segments) {
      if (segment.sequence <= after) continue;
      samples += segment.samples;
      bytes += segment.bytes;
    }
    return { samples, bytes };
  }

  /** The number of the oldest segment kept; null when the spool is empty. */
  oldestSequence(): number | null {
    return this.#segments[0]?.sequence ?? null;
  }

  /** Removes the segments numbered up to `sequence`: every reader has them. */
  async removeThrough(sequence: number): Promise<void> {
    const done = this.#segments.filter((segment) => segment.sequence <= sequence);
    if (done.length > 0) await this.remove(done);
  }

  async remove(segments: readonly Segment[]): Promise<void> {
    for (const segment of segments) await this.#host.rm(`${this.#settings.dir}/${segment.name}`);
    const removed = new Set(segments.map((segment) => segment.name));
    this.#segments = this.#segments.filter((segment) => !removed.has(segment.name));
  }

  /** Removes segments the endpoint refused as invalid, counting their samples. */
  async reject(segments: readonly Segment[]): Promise<void> {
    await this.remove(segments);
    await this.countRejected(segments.reduce((sum, segment) => sum + segment.samples, 0));
  }

  async countRejected(samples: number): Promise<void> {
    this.#counters.rejectedSamples += samples;
    await this.#writeCounters();
  }

  async #read(segment: Segment): Promise<Item[] | null> {
    try {
      return decodeSegment<Item>(await this.#host.readText(`${this.#settings.dir}/${segment.name}`), segment.samples);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        await this.remove([segment]); // another process sharing the spool delivered it
        return null;
      }
      this.#logger.error(`spool segment ${segment.name} is torn or unreadable and is dropped`, {
        [this.#noun]: segment.samples,
        reason: messageOf(error),
      });
      await this.#drop([segment]);
      return null;
    }
  }

  async #enforceCaps(): Promise<void> {
    const { maxBytes, maxAgeMs } = this.#settings;
    const oldestAllowed = this.#host.now().getTime() - maxAgeMs;
    let total = this.#segments.reduce((sum, segment) => sum + segment.bytes, 0);
    const dropped: Segment[] = [];
    for (const segment of this.#segments) {
      if (total <= maxBytes && segment.oldestMs >= oldestAllowed) break;
      dropped.push(segment);
      total -= segment.bytes;
    }
    if (dropped.length === 0) return;
    const samples = dropped.reduce((sum, segment) => sum + segment.samples, 0);
    this.#logger.warn(
      `spool ${this.#settings.dir} over its cap (SPOOL_MAX_BYTES=${maxBytes}, ` +
        `SPOOL_MAX_AGE=${maxAgeMs} ms): dropped the ${samples} oldest ${this.#noun}`,
    );
    await this.#drop(dropped);
  }

  get #noun(): string {
    return this.#settings.noun ?? 'samples';
  }

  async #drop(segments: readonly Segment[]): Promise<void> {
    await this.remove(segments);
    this.#counters.droppedSamples += segments.reduce((sum, segment) => sum + segment.samples, 0);
    await this.#writeCounters();
    for (const listener of this.#dropListeners) await listener(segments);
  }

  async #readCounters(): Promise<Counters> {
    const path = `${this.#settings.dir}/${COUNTERS_FILE}`;
    if ((await this.#host.stat(path)) === null) return { droppedSamples: 0, rejectedSamples: 0 };
    try {
      const { droppedSamples, rejectedSamples } = JSON.parse(await this.#host.readText(path)) as Partial<Counters>;
      if (Number.isSafeInteger(droppedSamples) && Number.isSafeInteger(rejectedSamples))
        return { droppedSamples, rejectedSamples } as Counters;
    } catch {
      // reported below
    }
    this.#logger.warn(`${path} is unreadable; the spool's drop counters start again from 0`);
    return { droppedSamples: 0, rejectedSamples: 0 };
  }

  async #writeCounters(): Promise<void> {
    const path = `${this.#settings.dir}/${COUNTERS_FILE}`;
    const write = () => this.#host.writeFileAtomic(path, `${JSON.stringify(this.#counters)}\n`, { mode: 0o600 });
    const written = this.#countersWritten.then(write);
    this.#countersWritten = written.catch(() => {});
    await written;
  }
}

interface SegmentHeader {
  readonly format: typeof FORMAT;
  readonly version: 1;
  readonly samples: number;
  readonly bytes: number;
  readonly sha256: string;
}

export function encodeSegment(samples: readonly SpoolItem[]): string {
  const body = `${samples.map((sample) => JSON.stringify(sample)).join('\n')}\n`;
  const header: SegmentHeader = {
    format: FORMAT,
    version: 1,
    samples: samples.length,
    bytes: Buffer.byteLength(body),
    sha256: sha256(body),
  };
  return `${JSON.stringify(header)}\n${body}`;
}

export function decodeSegment<Item extends SpoolItem = Sample>(text: string, expectedSamples: number): Item[] {
  const newline = text.indexOf('\n');
  if (newline === -1) throw new Error(`no header line in ${Buffer.byteLength(text)} bytes: ${shownText(text, 64)}`);
  const header = parseLine(text.slice(0, newline), 'the header line') as Partial<Record<keyof SegmentHeader, unknown>>;
  const body = text.slice(newline + 1);
  if (header?.format !== FORMAT || header.samples !== expectedSamples) {
    throw new Error('header does not match the segment');
  }
  if (header.bytes !== Buffer.byteLength(body) || header.sha256 !== sha256(body))
    throw new Error('checksum mismatch (torn write)');
  return body
    .trimEnd()
    .split('\n')
    .map((line, index) => parseLine(line, `line ${index + 2}`) as Item);
}

/** A torn or tampered segment holds any bytes: the error quotes them escaped, never raw (they go to the log). */
function parseLine(line: string, what: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new Error(`${what} is not JSON: ${shownText(line, 64)}`);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
