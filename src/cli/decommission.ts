import { createEventReporter, type EventReporter } from '../control/events.ts';
import { controlSettings } from '../control/settings.ts';
import { formatDuration } from '../core/config/values.ts';
import { ExitCode, messageOf, UsageError } from '../core/errors.ts';
import { decommission, type DecommissionDependencies, type DecommissionOutcome } from '../decommission/decommission.ts';
import { type DecommissionPreview, previewDecommission } from '../decommission/preview.ts';
import { decommissionFailure, reportDecommissionTo } from '../decommission/report.ts';
import { shutdownKind } from '../decommission/shutdown.ts';
import { hostEcs } from '../aws/ecs.ts';
import { DRAIN_POLL_INTERVAL_MS } from '../ecs-agent/drain.ts';
import type { CommandImplementation } from './command.ts';
import type { Context } from './context.ts';
import { inspectManageable } from './inspect.ts';

/** At poweroff the unit's TimeoutStopSec (6 minutes) must never be what ends the drain. */
const SHUTDOWN_TIMEOUT_CAP_MS = 5 * 60_000;

export const decommissionCommand: CommandImplementation = {
  async run(context, flags, operands) {
    if (operands.length > 0) throw new UsageError(`decommission: unexpected ${JSON.stringify(operands[0])}`);
    if (context.host.root !== '/')
      throw new UsageError('decommission acts on the running host; an image root (--root) has no container instance');
    const onShutdown = flags['on-shutdown'] === true;
    if (flags['dry-run'] === true) {
      if (onShutdown) throw new UsageError('decommission: --dry-run and --on-shutdown do not go together');
      return dryRun(context, flags.deregister === true);
    }
    if (onShutdown) {
      const skip = await shutdownSkipReason(context);
      if (skip) {
        context.logger.info(`decommission at shutdown skipped: ${skip}`);
        return ExitCode.ok;
      }
    }
    const timeoutMs = onShutdown
      ? Math.min(context.config.DECOMMISSION_TIMEOUT, SHUTDOWN_TIMEOUT_CAP_MS)
      : context.config.DECOMMISSION_TIMEOUT;
    // The outcome goes to the control endpoint (or EVENTS_SINK_FILE), a failure too.
    const reporter = await createEventReporter(context.host, context.config, context.logger);
    const outcome = await decommission(
      { ...(await hostDependencies(context)), report: reportDecommissionTo(reporter) },
      { deregister: onShutdown || flags.deregister === true, timeoutMs, pollIntervalMs: DRAIN_POLL_INTERVAL_MS },
    ).catch(async (error: unknown) => {
      await reportFailure(context, reporter, error);
      throw error;
    });
    context.out(context.json ? JSON.stringify(outcome, null, 2) : render(outcome, timeoutMs));
    return outcome.drained ? ExitCode.ok : ExitCode.failed;
  },
};

/** What a decommission and its dry run both work with on this host. */
async function hostDependencies(context: Context): Promise<Omit<DecommissionDependencies, 'report'>> {
  return {
    host: context.host,
    config: context.config,
    os: await inspectManageable(context),
    logger: context.logger,
    ecs: () => hostEcs(context.host, context.config),
  };
}

async function dryRun(context: Context, deregister: boolean): Promise<number> {
  const preview = await previewDecommission(
    {
      ...(await hostDependencies(context)),
      reportTo: controlSettings(context.config)?.url ?? context.config.EVENTS_SINK_FILE,
    },
    { deregister, timeoutMs: context.config.DECOMMISSION_TIMEOUT },
  );
  context.out(context.json ? JSON.stringify(preview, null, 2) : renderPreview(preview));
  return ExitCode.ok;
}

async function reportFailure(context: Context, reporter: EventReporter, error: unknown): Promise<void> {
  try {
    await reporter.report(decommissionFailure(error));
  } catch (reportError) {
    context.logger.warn(`the decommission failure was not reported: ${messageOf(reportError)}`);
  }
}

async function shutdownSkipReason(context: Context): Promise<string | null> {
  if (!context.config.DECOMMISSION_ON_SHUTDOWN)
    return `DECOMMISSION_ON_SHUTDOWN=no (${context.config.origins.DECOMMISSION_ON_SHUTDOWN})`;
  const kind = await shutdownKind(context.host);
  if (kind === 'reboot') return 'the host is rebooting, not powering off';
  if (kind === 'none') return 'the host is not shutting down (the unit was stopped by hand)';
  return null;
}

function renderPreview(preview: DecommissionPreview): string {
  const { instance } = preview;
  const left = preview.standaloneTasks.map(
    (task) =>
      `${task.name} (${task.taskArn.split('/').pop()}${task.startedBy ? `, started by ${task.startedBy}` : ''})`,
  );
  const rows: [string, string][] = [
    [
      'instance',
      instance
        ? `${instance.containerInstanceArn} (cluster "${instance.cluster}", found in ${preview.foundIn})`
        : 'none known',
    ],
  ];
  if (preview.status !== null)
    rows.push([
      'tasks',
      `${preview.status}: ${preview.runningTasksCount} running, ${preview.pendingTasksCount} pending`,
    ]);
  if (left.length > 0) rows.push(['left behind', left.join(', ')]);
  const forced = left.length > 0 ? ' (forced if those tasks are still there after the timeout)' : '';
  rows.push(
    ['drain', preview.drain],
    ['ecs-init', preview.wouldStop ? `would stop ${preview.wouldStop}` : 'not managed on this OS'],
    [
      'deregister',
      preview.wouldDeregister
        ? `would deregister${forced}`
        : preview.status === null
          ? 'no: nothing is registered'
          : 'no (pass --deregister)',
    ],
    ['agent state', `would clear ${preview.agentStateEntries} entr${preview.agentStateEntries === 1 ? 'y' : 'ies'}`],
    ['report to', preview.reportTo],
    ['timeout', formatDuration(preview.timeoutMs)],
  );
  return `dry run: nothing was changed\n${table(rows)}`;
}

function render(outcome: DecommissionOutcome, timeoutMs: number): string {
  const rows: [string, string][] = [
    [
      'instance',
      outcome.instance
        ? `${outcome.instance.containerInstanceArn} (cluster "${outcome.instance.cluster}")`
        : 'none known',
    ],
    ['drain', outcome.drain],
    ['deregistered', outcome.deregistered ? 'yes' : 'no'],
    ['agent state', outcome.stateCleared ? 'cleared' : 'kept'],
    ['timeout', formatDuration(timeoutMs)],
  ];
  return table(rows);
}

function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
