import { hazards, keyDisagreement, readAll, variableNames } from '../../concerns/ecs-config/analysis.ts';
import { parseEcsInitEnvFile } from '../../concerns/ecs-config/readers.ts';
import { detectSystemdVersion, systemdLabel, versionsToCheck } from '../../concerns/ecs-config/systemd-version.ts';
import { PATHS } from '../../core/paths.ts';
import { readTextIfExists } from '../../host/host.ts';
import { clusterNameOf } from '../../ecs-agent/arn.ts';
import { type Check, fail, ok, warn } from '../check.ts';

/**
 * /etc/ecs/ecs.config is read by systemd (the unit's EnvironmentFile=, parsed
 * as this host's systemd version does) and by ecs-init, which also reads
 * /var/lib/ecs/ecs.config first. Both must see the same values, no hand-written
 * line may hide another from systemd, and the cluster must be the configured one.
 */
const ECS_INIT_DEFAULTS = '/var/lib/ecs/ecs.config';
const APPLY =
  'run "ecs-host-agent apply", which writes every managed key as plain KEY=value where both readers read it';

export const ecsConfig: Check = {
  id: 'ecs-config',
  title: `${PATHS.ecsConfig} read alike by systemd and ecs-init, naming the cluster`,
  async run(context) {
    const text = await context.ecsConfig();
    if (text === null)
      return fail(`${PATHS.ecsConfig} does not exist: the agent would join the cluster "default"`, APPLY);
    const versions = versionsToCheck(await detectSystemdVersion(context.host, await context.os()));
    const readings = readAll(text, versions);
    const instanceDefaults = parseEcsInitEnvFile((await readTextIfExists(context.host, ECS_INIT_DEFAULTS)) ?? '');
    const ecsInit = { ...instanceDefaults, ...Object.fromEntries(readings.ecsInit) };
    const withDefaults = { ...readings, ecsInit: new Map(Object.entries(ecsInit)) };
    const differences = variableNames(withDefaults)
      .filter((key) => key.startsWith('ECS_'))
      .flatMap((key) => {
        const disagreement = keyDisagreement(withDefaults, key);
        return disagreement === null ? [] : [`${key}: ${disagreement}`];
      });
    const named = hazards(readings);
    const wanted = context.config.ECS_CLUSTER;
    const cluster = ecsInit.ECS_CLUSTER;
    if (cluster === undefined || cluster === '') {
      const evidence = `${PATHS.ecsConfig} sets no ECS_CLUSTER: the agent joins "default"`;
      return wanted === 'default'
        ? warn(evidence, 'set ECS_CLUSTER=default explicitly')
        : fail(`${evidence}, not "${wanted}"`, APPLY);
    }
    if (clusterNameOf(cluster) !== wanted)
      return fail(
        `ECS_CLUSTER is ${JSON.stringify(cluster)} there, but the agent is configured for "${wanted}"`,
        APPLY,
      );
    if (differences.length > 0) return fail(`the readers disagree: ${[...differences, ...named].join('; ')}`, APPLY);
    if (named.length > 0)
      return warn(
        `the readers agree, but hand-written lines hide others from systemd: ${named.join('; ')}`,
        'fix or remove those lines',
      );
    return ok(
      `ECS_CLUSTER=${cluster}; ${systemdLabel(versions)} and ecs-init read the same ${readings.ecsInit.size} keys`,
    );
  },
};
