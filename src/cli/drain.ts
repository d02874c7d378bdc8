import { formatDuration } from '../core/config/values.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import { type Ecs, hostEcs } from '../aws/ecs.ts';
import {
  describeRemaining,
  DRAIN_POLL_INTERVAL_MS,
  drainInstance,
  type InstanceRef,
  localInstance,
} from '../ecs-agent/drain.ts';
import type { CommandImplementation } from './command.ts';
import type { Context } from './context.ts';

export const drain: CommandImplementation = {
  async run(context, flags) {
    const { ecs, instance } = await thisInstance(context, 'drain');
    const timeoutMs = context.config.DRAIN_TIMEOUT;
    if (flags['dry-run'])
      return dryRun(
        context,
        instance,
        `set DRAINING, then wait up to ${formatDuration(timeoutMs)} for its tasks to stop`,
      );
    const outcome = await drainInstance(ecs, context.host, instance, {
      timeoutMs,
      pollIntervalMs: DRAIN_POLL_INTERVAL_MS,
    });
    const message = describeRemaining(outcome, timeoutMs);
    context.out(
      context.json
        ? JSON.stringify({ ...instance, status: 'DRAINING', ...outcome }, null, 2)
        : `${instance.containerInstanceArn} DRAINING; ${message}`,
    );
    return outcome.drained ? ExitCode.ok : ExitCode.failed;
  },
};

/** The ECS client and this host's container instance: only a running host has one. */
export async function thisInstance(context: Context, command: string): Promise<{ ecs: Ecs; instance: InstanceRef }> {
  if (context.host.root !== '/')
    throw new UsageError(`${command} acts on this running host's container instance; an image root (--root) has none`);
  const instance = await localInstance(context.host, context.config.INTROSPECTION_URL);
  return { ecs: await hostEcs(context.host, context.config), instance };
}

export function dryRun(context: Context, instance: InstanceRef, plan: string): number {
  context.out(
    context.json
      ? JSON.stringify({ ...instance, dryRun: true, plan }, null, 2)
      : `dry run: ${instance.containerInstanceArn} in cluster "${instance.cluster}": would ${plan}`,
  );
  return ExitCode.ok;
}
