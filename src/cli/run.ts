import { ExitCode, UsageError } from '../core/errors.ts';
import { systemClock } from '../daemon/clock.ts';
import { runDaemon } from '../daemon/daemon.ts';
import { JOBS } from '../daemon/jobs.ts';
import { createNotifier } from '../daemon/notify.ts';
import { gatherOsFacts, type OsFacts } from '../os/facts.ts';
import type { JobProcess } from '../daemon/job-process.ts';
import type { CommandImplementation } from './command.ts';
import { JOB_COMMAND } from './commands.ts';
import { exitOnceDone } from './exit.ts';
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
        jobProcess: jobProcess(process.env),
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
 * A job process is this daemon's runtime, flags and entry with the internal `job` command, in the daemon's
 * environment (the AWS SDK reads its credentials and endpoints there) less what systemd gave the daemon alone.
 */
function jobProcess(env: NodeJS.ProcessEnv): JobProcess {
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('run: no entry script in process.argv');
  const own = new Set(['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']);
  const passed = Object.entries(env).flatMap(([name, value]) =>
    value === undefined || own.has(name) ? [] : [[name, value]],
  );
  return { argv: [process.execPath, ...process.execArgv, entry, JOB_COMMAND], env: Object.fromEntries(passed) };
}
