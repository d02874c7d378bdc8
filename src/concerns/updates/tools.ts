import type { Action, Concern, ConcernContext } from '../../core/concern.ts';
import { execChecked } from '../../host/host.ts';
import { type PackageManager, packageManagerFor } from '../../pkg/package-manager.ts';
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

export type UpdateToolsAction = Action &
  (
    | { readonly kind: 'debconf'; readonly answers: string }
    | { readonly kind: 'install'; readonly packages: readonly string[] }
  );

const DEBCONF = 'debconf-set-selections';

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
      packages,
      summary: `install ${packages.join(', ')} (the updates job runs ${missing.map((tool) => tool.tool).join(', ')})`,
      details: installer(context).describeInstall(packages),
    };
    if (answers === '') return [install];
    return [
      {
        kind: 'debconf',
        answers,
        summary: `answer debconf for ${packages.join(', ')} before installing`,
        details: [`${DEBCONF} <<< ${JSON.stringify(answers)}`],
      },
      install,
    ];
  },
  async apply(action, context) {
    if (action.kind === 'install') await installer(context).install(action.packages);
    else await execChecked(context.host, DEBCONF, [], { input: action.answers, timeoutMs: 60_000 });
  },
};

function installer(context: ConcernContext): PackageManager {
  if (context.os.support.status === 'refused') throw new Error('refused systems are never planned');
  return packageManagerFor(context.os.support.packageManager, context.host, context.logger);
}
