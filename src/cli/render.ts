import type { ConcernOutcome, ConcernPlan } from '../core/runner.ts';
import { renderSteps } from '../core/step.ts';
import { describeRegistration } from '../ecs-agent/describe-registration.ts';
import type { Registration } from '../ecs-agent/registration.ts';
import type { InstalledPackage, OsFacts } from '../os/facts.ts';

/** Text renderings for a terminal; --json prints the same data as objects. */
export function renderFacts(facts: OsFacts, onlineNote: string, verdict: string): string {
  const { release, support } = facts;
  const rows: [string, string][] = [
    ['system', `${release.prettyName} (${release.id} ${release.versionId}, from ${release.source})`],
    ['root', facts.root],
    [
      'support',
      support.status === 'supported' ? `supported (${support.packageManager})` : `${support.status}: ${support.reason}`,
    ],
    ['arch', facts.arch ?? 'unknown'],
    ['glibc', facts.glibc ?? 'unknown'],
    [
      'systemd',
      facts.systemdRunning === null ? 'n/a (image root)' : facts.systemdRunning ? 'running as PID 1' : 'not PID 1',
    ],
    [
      'cgroups',
      facts.cgroups
        ? `v${facts.cgroups.version}, memory controller ${facts.cgroups.memoryController ? 'on' : 'off'}`
        : 'n/a',
    ],
    ['nvidia gpus', facts.nvidiaGpus === null ? 'n/a (image root)' : String(facts.nvidiaGpus)],
    ['docker', installed(facts, facts.docker)],
    ['ecs-init', installed(facts, facts.ecsInit)],
    ['ecs-optimized', facts.ecsOptimizedEvidence.length ? facts.ecsOptimizedEvidence.join('; ') : 'no markers'],
    ['online check', onlineNote],
    ['verdict', verdict],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

export function renderPlan(plans: readonly ConcernPlan[]): string {
  if (plans.length === 0) return 'no concern is enabled: nothing to do';
  return plans
    .map((plan) => {
      const warnings = plan.warnings.map((warning) => `  warning: ${warning}`);
      if (plan.error) return `${plan.concern}: cannot plan: ${plan.error}`;
      if (plan.actions.length === 0) return [`${plan.concern}: up to date`, ...warnings].join('\n');
      const steps = plan.actions.flatMap((action, i) => [
        `  ${i + 1}. ${action.summary}`,
        ...renderSteps(action.steps).map((line) => `       ${line}`),
      ]);
      return [
        `${plan.concern}: ${plan.actions.length} step${plan.actions.length === 1 ? '' : 's'}`,
        ...steps,
        ...warnings,
      ].join('\n');
    })
    .join('\n');
}

export function renderOutcomes(
  outcomes: readonly ConcernOutcome[],
  registration: Registration | string | null,
): string {
  const lines = outcomes.map((outcome) => {
    if (outcome.error)
      return `${outcome.concern}: FAILED after ${outcome.applied} of ${outcome.actions.length} steps: ${outcome.error}`;
    return (
      `${outcome.concern}: ` +
      `${outcome.applied === 0 ? 'up to date' : `${outcome.applied} step${outcome.applied === 1 ? '' : 's'} applied`}`
    );
  });
  if (registration) lines.push(`registration: ${describeRegistration(registration)}`);
  return lines.join('\n');
}

function installed(facts: OsFacts, found: InstalledPackage | null): string {
  if (found) return `${found.name} ${found.version}`;
  return facts.packagesUnknown === null ? 'not installed' : 'unknown (the package database could not be read)';
}
