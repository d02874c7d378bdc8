import { deliveryFailing } from '../control/delivery.ts';
import type { SpoolStatus } from '../control/protocol.ts';
import { ExitCode } from '../core/errors.ts';
import { runningHolder } from '../daemon/lock.ts';
import { type DaemonStatus, readStatus } from '../daemon/status-file.ts';
import { describeDelay } from '../daemon/task-log.ts';
import type { CommandImplementation } from './command.ts';

/**
 * The daemon's status: its last reload, what runs now (and its last step), each task's last result, the spool
 * backlog. It also works on a bad config, which is reported after it (exit 78): the daemon may still run on the
 * config it read.
 */
export const status: CommandImplementation = {
  async run(context) {
    const last = await readStatus(context.host);
    const running = last !== null && last.state !== 'stopped' && (await runningHolder(context.host)) === last.pid;
    const configError = context.configError?.message ?? null;
    if (context.json) {
      context.out(JSON.stringify({ running, ...last, ...(configError ? { configError } : {}) }, null, 2));
    } else {
      const now = context.host.now().getTime();
      const lines =
        last === null
          ? ['the daemon has not run on this machine (systemctl status ecs-host-agent)']
          : describe(last, running, now);
      context.out([...lines, ...(configError ? [`configuration error: ${configError}`] : [])].join('\n'));
    }
    if (configError) return ExitCode.config;
    // Sampling (the metrics task) can be fine while its delivery fails: that fails `status` too, and so does a
    // refused reload (the daemon does not run on what the file says).
    const healthy = last !== null && running && Object.values(last.tasks).every((task) => task.result === 'ok');
    const reloaded = last?.reload?.result !== 'refused';
    return healthy && reloaded && !deliveryFailing(last.tasks.metrics?.details) ? ExitCode.ok : ExitCode.failed;
  },
};

function describe(last: DaemonStatus, running: boolean, now: number): string[] {
  const header = !running
    ? `not running (last seen ${last.updatedAt})`
    : `${last.state === 'stopping' ? 'stopping' : 'running'} as pid ${last.pid} since ${last.startedAt}`;
  const current = running
    ? Object.entries(last.current ?? {}).map(([name, run]) => {
        const step = run.step === null ? '' : `: ${run.step}`;
        return `${name}: running since ${run.startedAt} (${describeDelay(now - Date.parse(run.startedAt))})${step}`;
      })
    : [];
  const rows = Object.values(last.tasks).map((task) => {
    const when = `${task.result} at ${task.startedAt} (${task.durationMs} ms)`;
    return `${task.name}: ${when}: ${task.summary}; next ${task.nextRunAt}`;
  });
  const reload = last.reload ? [`reload: ${last.reload.result} at ${last.reload.at}: ${last.reload.summary}`] : [];
  return [header, ...reload, ...current, ...rows, ...spoolLine(last)];
}

/** The metrics job's spool backlog, when samples go to a control endpoint. */
function spoolLine(status: DaemonStatus): string[] {
  const details = status.tasks.metrics?.details as { spool?: Partial<SpoolStatus> } | undefined;
  const spool = details?.spool;
  if (typeof spool?.pendingSamples !== 'number') return [];
  const waiting = `${spool.pendingSamples} samples waiting (${spool.pendingBytes ?? 0} bytes)`;
  return [`spool: ${waiting}, ${spool.droppedSamples ?? 0} dropped, ${spool.rejectedSamples ?? 0} rejected`];
}
