import { AgentError } from '../../core/errors.ts';
import type { UpdateManager } from './types.ts';

/**
 * A tool a distribution's security-update path runs besides its package
 * manager, with the package that provides it. The `updates` concern installs
 * what is missing (plan shows it); until then the updates job and
 * `updates check` say precisely what is missing instead of failing to start it.
 */
export interface Prerequisite {
  /** The command as an operator would type it. */
  readonly tool: string;
  readonly package: string;
  /** What the agent cannot do without it ("security updates cannot be listed or applied"). */
  readonly without: string;
  /** Without it nothing works (the job fails); otherwise the job runs and says what it cannot tell. */
  readonly required: boolean;
  /** debconf answers given before the package is installed (apt only), one "owner question type value" per line. */
  readonly debconf?: string;
}

export class PrerequisiteMissing extends AgentError {}

export async function missingPrerequisites(manager: UpdateManager): Promise<Prerequisite[]> {
  const installed = await Promise.all(
    manager.prerequisites.map(async (tool) => (await manager.installedVersion(tool.package)) !== null),
  );
  return manager.prerequisites.filter((_, index) => !installed[index]);
}

/**
 * Fails naming a missing required tool and its package; returns one line for
 * each missing optional one, for the report's notes.
 */
export async function checkPrerequisites(manager: UpdateManager): Promise<string[]> {
  const missing = await missingPrerequisites(manager);
  const required = missing.filter((tool) => tool.required);
  if (required.length > 0)
    throw new PrerequisiteMissing(`security updates: ${required.map(describeMissing).join('; ')}`);
  return missing.map(describeMissing);
}

function describeMissing(tool: Prerequisite): string {
  return (
    `${tool.tool} is not installed (package ${tool.package}), so ${tool.without}; ` +
    "`ecs-host-agent apply` installs it, and so does the daemon's next converge"
  );
}
