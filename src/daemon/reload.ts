import type { Config } from '../core/config/load.ts';
import { messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ScheduleChange } from './scheduler.ts';
import { describeDelay } from './task-log.ts';

/** The last reload, for `status`: applied (what changed), or refused (why, and what the daemon runs on). */
export interface ReloadRecord {
  readonly at: string;
  readonly result: 'applied' | 'refused';
  readonly summary: string;
}

export interface Reload {
  /** Reads the configuration again; rejects (a ConfigError naming the line) when it is bad. */
  read(): Promise<Config>;
  /** Runs on `config` from now on: its LOG_LEVEL at once, its tasks and intervals; says what the schedule did. */
  apply(config: Config): Promise<readonly ScheduleChange[]>;
}

/**
 * A reload (SIGHUP): the configuration read again and, when a value changed, applied to everything at once:
 * LOG_LEVEL, which tasks run and their intervals, and every task's next run. A bad configuration is refused and the
 * running one kept. Either way the log says what happened, and the record returned is for status. When nothing
 * changed, nothing is applied: the running configuration stays the same object, so jobs keep what they built.
 */
export async function reloadAndApply(
  running: Config,
  reload: Reload,
  logger: Logger,
  at: string,
  runningSince: string,
): Promise<ReloadRecord> {
  let next: Config;
  try {
    next = await reload.read();
  } catch (error) {
    logger.error(`configuration not reloaded, keeping the running one: ${messageOf(error)}`);
    const summary = `${messageOf(error)}; running on the configuration applied at ${runningSince}`;
    return { at, result: 'refused', summary };
  }
  const changed = changedKeys(running, next);
  if (changed.length === 0) {
    logger.info('configuration reloaded (SIGHUP): nothing changed');
    return { at, result: 'applied', summary: 'nothing changed' };
  }
  const schedule = describeChanges(await reload.apply(next));
  const summary = `${changed.join(', ')} changed; ${schedule}`;
  logger.info(`configuration reloaded (SIGHUP): ${summary}; every task uses the new values from its next run`);
  return { at, result: 'applied', summary };
}

function changedKeys(before: Config, after: Config): string[] {
  const keys = new Set([...Object.keys(before.origins), ...Object.keys(after.origins)]);
  const value = (config: Config, key: string) =>
    JSON.stringify((config as unknown as Record<string, unknown>)[key] ?? config.ecsPassThrough[key]);
  return [...keys].filter((key) => value(before, key) !== value(after, key)).sort();
}

/** "metrics every 10 s (was 60 s), users-sync turned on (every 15 min), updates turned off". */
function describeChanges(changes: readonly ScheduleChange[]): string {
  if (changes.length === 0) return 'the schedule is unchanged';
  return changes
    .map(({ name, fromMs, toMs }) => {
      if (toMs === null) return `${name} turned off`;
      if (fromMs === null) return `${name} turned on (every ${describeDelay(toMs)})`;
      return `${name} every ${describeDelay(toMs)} (was ${describeDelay(fromMs)})`;
    })
    .join(', ');
}
