import type { Action, Concern, ConcernContext } from '../../core/concern.ts';
import type { PackageManagerName } from '../../os/support.ts';
import { describeExtrasInstall, installExtrasTopic } from '../../pkg/amazon-linux-extras.ts';
import { packageManagerFor } from '../../pkg/package-manager.ts';
import { describeStart, needsStart, startUnit, type UnitState, unitState } from '../systemd-unit.ts';

/** Docker, installed the way each distribution ships it (DESIGN.md §3). */
const UNIT = 'docker.service';

/** Amazon Linux 2 (image roots only) ships Docker as an amazon-linux-extras topic, not a plain package. */
const INSTALL: Readonly<Record<PackageManagerName, { readonly packages: readonly string[]; readonly extrasTopic?: string }>> = {
  apt: { packages: ['docker.io'] },
  dnf: { packages: ['docker'] },
  yum: { packages: [], extrasTopic: 'docker' },
  zypper: { packages: ['docker'] },
};

export interface DockerFacts {
  readonly installed: boolean;
  readonly unit: UnitState | null;
}

export type DockerAction = Action & { readonly kind: 'install' | 'start' };

export const dockerConcern: Concern<DockerFacts, DockerAction> = {
  name: 'docker',
  enabled: () => true,
  async gather({ host, os }) {
    const installed = os.docker !== null;
    return { installed, unit: installed ? await unitState(host, UNIT, os) : null };
  },
  plan(facts, context) {
    const actions: DockerAction[] = [];
    if (!facts.installed) actions.push({ kind: 'install', summary: 'install Docker', details: installCommands(context) });
    if (!facts.unit || needsStart(facts.unit)) actions.push({ kind: 'start', summary: describeStart(UNIT, context.os) });
    return actions;
  },
  async apply(action, context) {
    if (action.kind === 'install') await install(context);
    else await startUnit(context.host, UNIT, context.os);
  },
};

function managerName(context: ConcernContext): PackageManagerName {
  if (context.os.support.status === 'refused') throw new Error('refused systems are never planned');
  return context.os.support.packageManager;
}

function installCommands(context: ConcernContext): string[] {
  const spec = INSTALL[managerName(context)];
  if (spec.extrasTopic) return [describeExtrasInstall(spec.extrasTopic)];
  return packageManagerFor(managerName(context), context.host).describeInstall(spec.packages);
}

async function install(context: ConcernContext): Promise<void> {
  const spec = INSTALL[managerName(context)];
  const packages = packageManagerFor(managerName(context), context.host, context.logger);
  if (!spec.extrasTopic) return packages.install(spec.packages);
  await installExtrasTopic(context.host, spec.extrasTopic);
}
