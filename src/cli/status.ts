import { deliveryFailing } from '../control/delivery.ts';
import { ExitCode } from '../core/errors.ts';
import { runningHolder } from '../daemon/lock.ts';
import type { SpoolStatus } from '../control/protocol.ts';
import { type DaemonStatus, readStatus } from '../daemon/status-file.ts';
import type { CommandImplementation } from './command.ts';

export const status: CommandImplementation = {
  async run(context) {
    const last = await readStatus(context.host);
    const running = last !== null && last.state === 'running' && (await runningHolder(context.host)) === last.pid;
    if (context.json) {
      context.out(JSON.stringify({ running, ...last }, null, 2));
    } else if (last === null) {
      context.out('the daemon has not run on this machine (systemctl status ecs-host-agent)');
    } else {
      const header = running ? `running as pid ${last.pid} since ${last.startedAt}` : `not running (last seen ${last.updatedAt})`;
      const rows = Object.values(last.tasks).map(
        (task) => `${task.name}: ${task.result} at ${task.startedAt} (${task.durationMs} ms): ${task.summary}; next ${task.nextRunAt}`,
      );
      context.out([header, ...rows, ...spoolLine(last)].join('\n'));
    }
    // Sampling (the metrics task) can be fine while its delivery fails: that fails `status` too.
    const healthy = last !== null && running && Object.values(last.tasks).every((task) => task.result === 'ok');
    return healthy && !deliveryFailing(last.tasks.metrics?.details) ? ExitCode.ok : ExitCode.failed;
  },
};

/** The metrics job's spool backlog, when samples go to a control endpoint. */
function spoolLine(status: DaemonStatus): string[] {
  const details = status.tasks.metrics?.details as { spool?: Partial<SpoolStatus> } | undefined;
  const spool = details?.spool;
  if (typeof spool?.pendingSamples !== 'number') return [];
  return [`spool: ${spool.pendingSamples} samples waiting (${spool.pendingBytes ?? 0} bytes), ${spool.droppedSamples ?? 0} dropped, ${spool.rejectedSamples ?? 0} rejected`];
}
