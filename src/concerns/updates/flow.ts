import type { ConcernContext } from '../../core/concern.ts';
import { type ApplyReport, applyUpdates, pendingUpdates, type RebootPolicy, rebootWanted } from './apply.ts';
import { hostSequenceDeps } from './reboot/deps.ts';
import { readSequenceRecord } from './reboot/record.ts';
import { resumeRebootSequence, runRebootSequence, type SequenceDeps, type SequenceOutcome } from './reboot/sequence.ts';
import type { UpdateSettings } from './settings.ts';
import type { UpdateManager } from './types.ts';

/**
 * One pass of `updates apply` and of the daemon's job: finish or roll back a
 * sequence left from before, apply pending security updates, and start the
 * reboot sequence when the policy and the distribution's signal call for it.
 */
export type MakeSequenceDeps = (context: ConcernContext, settings: UpdateSettings) => Promise<SequenceDeps>;

export type RebootDecision =
  SequenceOutcome | { readonly outcome: 'not-needed' | 'never' | 'image-root'; readonly message: string };

export interface UpdatesRun {
  /** A sequence from before this run, finished or rolled back. */
  readonly resumed: SequenceOutcome | null;
  readonly applied: ApplyReport;
  readonly reboot: RebootDecision;
}

/** Sequences live on running hosts only; an image root has none. */
export async function resumeRecorded(
  context: ConcernContext,
  settings: UpdateSettings,
  makeDeps: MakeSequenceDeps = hostSequenceDeps,
): Promise<SequenceOutcome | null> {
  if (context.host.root !== '/' || (await readSequenceRecord(context.host)) === null) return null;
  return resumeRebootSequence(await makeDeps(context, settings));
}

export async function applyAndReboot(
  context: ConcernContext,
  manager: UpdateManager,
  settings: UpdateSettings,
  policy: RebootPolicy,
  makeDeps: MakeSequenceDeps = hostSequenceDeps,
): Promise<UpdatesRun> {
  const resumed = await resumeRecorded(context, settings, makeDeps);
  const applied = await applyUpdates(context, manager, await pendingUpdates(manager));
  return { resumed, applied, reboot: await decideReboot(context, settings, policy, applied, makeDeps) };
}

async function decideReboot(
  context: ConcernContext,
  settings: UpdateSettings,
  policy: RebootPolicy,
  applied: ApplyReport,
  makeDeps: MakeSequenceDeps,
): Promise<RebootDecision> {
  if (context.host.root !== '/') return { outcome: 'image-root', message: 'an image root is not rebooted' };
  if (!rebootWanted(policy, applied)) {
    if (policy === 'never')
      return {
        outcome: 'never',
        message: `no reboot (policy never)${applied.rebootRequired ? '; the distribution says one is required' : ''}`,
      };
    return {
      outcome: 'not-needed',
      message:
        applied.rebootRequired === null
          ? 'no reboot: the distribution gives no reboot signal here'
          : 'no reboot needed',
    };
  }
  const reason = applied.rebootRequired
    ? 'the distribution requires a reboot'
    : `${applied.changed.length} package(s) updated (reboot policy always)`;
  return runRebootSequence(await makeDeps(context, settings), reason);
}
