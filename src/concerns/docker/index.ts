import type { Concern, ConcernContext, StepAction } from '../../core/concern.ts';
import { performSteps, type Step } from '../../core/step.ts';
import { packageManagerOf } from '../../os/facts.ts';
import type { PackageManagerName } from '../../os/support.ts';
import { extrasInstallCommand } from '../../pkg/amazon-linux-extras.ts';
import { needsStart, startUnit, type UnitState, unitState } from '../../os/systemd-unit.ts';

/** Docker, installed the way each distribution ships it (DESIGN.md §3). */
const UNIT = 'docker.service';

/** Amazon Linux 2 (image roots only) ships Docker as an amazon-linux-extras topic, not a plain package. */
const INSTALL: Readonly<
  Record<PackageManagerName, { readonly packages: readonly string[]; readonly extrasTopic?: string }>
> = {
  apt: { packages: ['docker.io'] },
  dnf: { packages: ['docker'] },
  yum: { packages: [], extrasTopic: 'docker' },
  zypper: { packages: ['docker'] },
};

export interface DockerFacts {
  readonly installed: boolean;
  readonly unit: UnitState | null;
}

export type DockerAction = StepAction<'install' | 'start'>;

export const dockerConcern: Concern<DockerFacts, DockerAction> = {
  name: 'docker',
  enabled: () => true,
  async gather({ host, os }) {
    const installed = os.docker !== null;
    return { installed, unit: installed ? await unitState(host, UNIT, os) : null };
  },
  plan(facts, context) {
    const actions: DockerAction[] = [];
    if (!facts.installed) actions.push({ kind: 'install', summary: 'install Docker', steps: installSteps(context) });
    if (!facts.unit || needsStart(facts.unit)) actions.push({ kind: 'start', ...startUnit(UNIT, context.os) });
    return actions;
  },
  apply: (action, context) => performSteps(context.host, action.steps, packageManagerOf(context)),
};

function installSteps(context: ConcernContext): Step[] {
  const packages = packageManagerOf(context);
  const spec = INSTALL[packages.name];
  if (spec.extrasTopic) return [{ run: extrasInstallCommand(spec.extrasTopic) }];
  return [{ install: packages.installCommands(spec.packages) }];
}
