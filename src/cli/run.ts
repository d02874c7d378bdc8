import type { ConcernContext } from '../core/concern.ts';
import type { Config } from '../core/config/load.ts';
import { ExitCode, messageOf, UsageError } from '../core/errors.ts';
import { systemClock } from '../daemon/clock.ts';
import { runDaemon } from '../daemon/daemon.ts';
import { JOBS } from '../daemon/jobs.ts';
import { createNotifier } from '../daemon/notify.ts';
import { gatherOsFacts, type OsFacts } from '../os/facts.ts';
import type { CommandImplementation } from './command.ts';
import type { Context } from './context.ts';
import { inspectManageable } from './inspect.ts';

export const run: CommandImplementation = {
  async run(context) {
    if (context.host.root !== '/') throw new UsageError('run manages this machine; use plan or apply with --root');
    const stop = new AbortController();
    let config = context.config;
    let os = await inspectManageable(context);
    const onStop = () => stop.abort();
    const onReload = () => void reload(context, config, (next) => (config = next));
    process.on('SIGTERM', onStop).on('SIGINT', onStop).on('SIGHUP', onReload);
    try {
      await runDaemon({
        host: context.host,
        pid: process.pid,
        logger: context.logger,
        notifier: createNotifier(context.host, process.env, process.pid, context.logger),
        clock: systemClock,
        random: Math.random,
        jobs: JOBS,
        signal: stop.signal,
        async context(fresh): Promise<ConcernContext> {
          if (fresh) os = await gatherOsFacts(context.host);
          return { host: context.host, config, os: os as OsFacts, logger: context.logger, resetAgentState: false };
        },
      });
    } finally {
      process.off('SIGTERM', onStop).off('SIGINT', onStop).off('SIGHUP', onReload);
    }
    exitOnceDone();
    return ExitCode.ok;
  },
};

/**
 * The daemon has stopped: a command it left to finish, or the timer of a wait
 * it abandoned, must not keep the process alive. The timer does not hold the
 * process itself; when something else does, it ends it with the exit code set.
 */
function exitOnceDone(): void {
  setTimeout(() => process.exit(), 0).unref();
}

/** What SIGHUP changes, said as it is; a bad config on reload is logged and the running one kept. */
async function reload(context: Context, running: Config, apply: (config: Config) => void): Promise<void> {
  try {
    const next = await context.reloadConfig();
    apply(next);
    const changed = changedKeys(running, next);
    if (changed.length === 0) return context.logger.info('configuration reloaded (SIGHUP): nothing changed');
    context.logger.info(
      `configuration reloaded (SIGHUP): ${changed.join(', ')} changed; the converge, users sync, updates, events and ` +
        'spot watch use it from their next run. Kept from the start until a restart: which tasks run and their ' +
        'intervals, LOG_LEVEL, and the metrics job (set up at its first run)',
    );
  } catch (error) {
    context.logger.error(`configuration not reloaded, keeping the running one: ${messageOf(error)}`);
  }
}

function changedKeys(before: Config, after: Config): string[] {
  const keys = new Set([...Object.keys(before.origins), ...Object.keys(after.origins)]);
  const value = (config: Config, key: string) =>
    JSON.stringify((config as unknown as Record<string, unknown>)[key] ?? config.ecsPassThrough[key]);
  return [...keys].filter((key) => value(before, key) !== value(after, key)).sort();
}
