import { ExitCode, UsageError } from '../core/errors.ts';
import { systemClock } from '../daemon/clock.ts';
import { runDaemon } from '../daemon/daemon.ts';
import { JOBS } from '../daemon/jobs.ts';
import { createNotifier } from '../daemon/notify.ts';
import { gatherOsFacts, type OsFacts } from '../os/facts.ts';
import type { CommandImplementation } from './command.ts';
import { inspectManageable } from './inspect.ts';

export const run: CommandImplementation = {
  async run(context) {
    if (context.host.root !== '/') throw new UsageError('run manages this machine; use plan or apply with --root');
    const stop = new AbortController();
    const reloads = new EventTarget();
    let os: OsFacts = await inspectManageable(context);
    const onStop = () => stop.abort();
    const onReload = () => reloads.dispatchEvent(new Event('reload'));
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
        config: context.config,
        async osFacts(fresh) {
          if (fresh) os = await gatherOsFacts(context.host);
          return os;
        },
        readConfig: () => context.reloadConfig(),
        setLogLevel: (level) => context.setLogLevel(level),
        reloads,
        signal: stop.signal,
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
