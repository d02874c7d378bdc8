import type { Concern, StepAction } from '../../core/concern.ts';
import { performSteps } from '../../core/step.ts';
import { packageManagerOf } from '../../os/facts.ts';
import { updateManagerFor } from './manager.ts';
import { missingPrerequisites, type Prerequisite } from './prerequisites.ts';

/**
 * The tools the daemon's updates job runs (unattended-upgrade, dnf's
 * needs-restarting), installed by plan/apply where the image lacks them, so the
 * job works from the first boot instead of failing every hour. Only when the
 * job is on (UPDATES_CHECK_INTERVAL), image roots included: they boot into it.
 */
export interface UpdateToolsFacts {
  readonly missing: readonly Prerequisite[];
}

export type UpdateToolsAction = StepAction<'debconf' | 'install'>;

export const updateToolsConcern: Concern<UpdateToolsFacts, UpdateToolsAction> = {
  name: 'updates',
  enabled: ({ config, os }) =>
    config.UPDATES_CHECK_INTERVAL !== null && os.support.status !== 'refused' && os.support.packageManager !== 'yum',
  async gather(context) {
    return { missing: await missingPrerequisites(updateManagerFor(context)) };
  },
  plan({ missing }, context) {
    if (missing.length === 0) return [];
    const packages = missing.map((tool) => tool.package);
    const answers = missing.map((tool) => tool.debconf ?? '').join('');
    const install: UpdateToolsAction = {
      kind: 'install',
      summary: `install ${packages.join(', ')} (the updates job runs ${missing.map((tool) => tool.tool).join(', ')})`,
      steps: [{ install: packageManagerOf(context).installCommands(packages) }],
    };
    if (answers === '') return [install];
    const debconf = { file: 'debconf-set-selections', args: [], input: answers, timeoutMs: 60_000 };
    const summary = `answer debconf for ${packages.join(', ')} before installing`;
    return [{ kind: 'debconf', summary, steps: [{ run: debconf }] }, install];
  },
  apply: (action, context) => performSteps(context.host, action.steps, packageManagerOf(context)),
};
