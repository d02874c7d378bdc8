import type { EventInput, EventReporter } from '../../../control/events.ts';
import type { SequenceDeps, SequenceReport } from './sequence.ts';

/**
 * How a reboot sequence ended, as a host event of the control protocol:
 * outcome `rebooted` (ok), or why not: `drain-timeout`, `window-closed`,
 * `slot-lost`, `rolled-back` (a sequence interrupted before its reboot) or
 * `failed` (a step threw; the next run tries again).
 */
export function rebootEvent(report: SequenceReport): EventInput {
  const { record } = report;
  return {
    type: 'reboot',
    outcome: report.outcome,
    ok: report.outcome === 'rebooted',
    message: report.message,
    details: {
      reason: record.reason,
      startedAt: record.startedAt,
      phase: record.phase,
      instanceId: record.instanceId,
      cluster: record.cluster,
      containerInstanceArn: record.containerInstanceArn,
      drainedByAgent: record.drainedByAgent,
      ...(report.remainingTasks ? { remainingTasks: report.remainingTasks } : {}),
    },
  };
}

export function reportSequenceTo(reporter: EventReporter): NonNullable<SequenceDeps['report']> {
  return async (report) => {
    await reporter.report(rebootEvent(report));
  };
}
