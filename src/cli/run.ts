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
    const onReload = () => void reload(context, (next) => (config = next));
    process.on('SIGTERM', onStop).on('SIGINT', onStop).on('SIGHUP', onReload);
    try {
      await runDaemon({
        host: context.host,
        pid: process.pid,
        logger: context.logger,
        notifier: createNotifier(context.host, process.env, process.pid, context.logger),
        clock: systemClock,
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
    return ExitCode.ok;
  },
};

/** A bad config on reload is logged and the running config kept: a typo must not stop the agent. */
async function reload(context: Context, apply: (config: Config) => void): Promise<void> {
  try {
    apply(await context.reloadConfig());
    context.logger.info('configuration reloaded (SIGHUP)');
  } catch (error) {
    context.logger.error(`configuration not reloaded, keeping the running one: ${messageOf(error)}`);
  }
}
