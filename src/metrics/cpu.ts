import type { Host } from '../host/host.ts';
import type { KeptFiles } from './kept-files.ts';
import { type CpuTimes, parseCpuTimes } from './proc.ts';
import type { CpuPercent } from './sample.ts';

/** Without an earlier reading, percentages are taken over this short pause. */
const FIRST_READING_PAUSE_MS = 250;

/**
 * CPU percentages over the time since the previous reading, from /proc/stat
 * (systeminformation's currentLoad() has no iowait, so it cannot give cpu_waitio).
 */
export class CpuTracker {
  readonly #host: Host;
  readonly #files: KeptFiles;
  #previous: CpuTimes | null = null;

  constructor(host: Host, files: KeptFiles) {
    this.#host = host;
    this.#files = files;
  }

  async read(): Promise<CpuPercent> {
    if (this.#previous === null) {
      this.#previous = await this.#times();
      await this.#host.sleep(FIRST_READING_PAUSE_MS);
    }
    const current = await this.#times();
    const percent = cpuPercent(this.#previous, current);
    this.#previous = current;
    return percent;
  }

  #times(): Promise<CpuTimes> {
    return this.#files.read('/proc/stat').then(parseCpuTimes);
  }
}

export function cpuPercent(before: CpuTimes, after: CpuTimes): CpuPercent {
  const delta = (field: keyof CpuTimes): number => Math.max(0, after[field] - before[field]);
  const total =
    delta('user') +
    delta('nice') +
    delta('system') +
    delta('idle') +
    delta('iowait') +
    delta('irq') +
    delta('softirq') +
    delta('steal');
  const share = (ticks: number): number => (total === 0 ? 0 : Math.round((ticks / total) * 10_000) / 100);
  return {
    user: share(delta('user')),
    nice: share(delta('nice')),
    system: share(delta('system')),
    idle: share(delta('idle')),
    waitio: share(delta('iowait')),
    steal: share(delta('steal')),
    irq: share(delta('irq') + delta('softirq')),
  };
}
