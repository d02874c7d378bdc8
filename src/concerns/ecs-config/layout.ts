import { environmentTooLarge, variableTooLong } from '../../core/config/limits.ts';
import { ConfigError } from '../../core/errors.ts';
import { PATHS } from '../../core/paths.ts';
import { hazards, keyDisagreement, readAll, type Readings } from './analysis.ts';
import { blockPlacements, IN_PLACE, type Placement, type Rewrite, rewriteEcsConfig } from './file.ts';
import { systemdLabel } from './systemd-version.ts';

/**
 * Where the managed lines go so that every reader reads each managed key as
 * the agent wrote it. In place when that works; otherwise all together at the
 * first place, from the end of the file up, where no hand-written line hides
 * them (an open quote or a line continued by "\" before them, a CR-hidden
 * assignment of the same key after them). Each candidate is checked with the
 * reader models: the agent never writes a file its readers read differently.
 */
export interface Layout {
  readonly text: string;
  readonly placement: Placement;
  readonly readings: Readings;
}

export function chooseLayout(rewrite: Rewrite, versions: readonly number[]): Layout {
  const inPlace = layoutOf(rewrite, IN_PLACE, versions);
  checkEnvironmentSize(inPlace.readings);
  if (managedDisagreements(inPlace.readings, rewrite.managed).length === 0) return inPlace;
  for (const placement of blockPlacements(rewrite)) {
    const layout = layoutOf(rewrite, placement, versions);
    if (managedDisagreements(layout.readings, rewrite.managed).length === 0) return layout;
  }
  const reasons = [...hazards(inPlace.readings), ...managedDisagreements(inPlace.readings, rewrite.managed)];
  throw new ConfigError(
    `${PATHS.ecsConfig}: nothing is changed: hand-written lines keep ${systemdLabel(versions)} and ecs-init ` +
      `from reading the managed keys alike wherever they are placed: ${reasons.join('; ')}; ` +
      'fix or remove those lines by hand (set what they hold in agent.env instead)',
  );
}

function layoutOf(rewrite: Rewrite, placement: Placement, versions: readonly number[]): Layout {
  const text = rewriteEcsConfig(rewrite, placement);
  return { text, placement, readings: readAll(text, versions) };
}

/** "KEY: systemd 252 reads …, ecs-init reads …" for each managed key not read as written. */
export function managedDisagreements(readings: Readings, managed: ReadonlyMap<string, string>): string[] {
  return [...managed].flatMap(([key, value]) => {
    const disagreement = keyDisagreement(readings, key, value);
    return disagreement === null ? [] : [`${key} would not be read as written: ${disagreement}`];
  });
}

/** What systemd passes to ecs.service must fit what execve takes, or the unit cannot start at all. */
function checkEnvironmentSize(readings: Readings): void {
  for (const reading of readings.systemd.values()) {
    for (const assignment of reading.assignments) {
      const tooLong =
        reading.variables.get(assignment.key) === assignment.value
          ? variableTooLong(assignment.key, assignment.value)
          : null;
      if (tooLong)
        throw new ConfigError(
          `${PATHS.ecsConfig}:${assignment.firstLine}: ${assignment.key} ${tooLong}; nothing is changed`,
        );
    }
    const tooLarge = environmentTooLarge(reading.variables, PATHS.ecsConfig);
    if (tooLarge) throw new ConfigError(`${PATHS.ecsConfig}: ${tooLarge}; nothing is changed`);
  }
}
