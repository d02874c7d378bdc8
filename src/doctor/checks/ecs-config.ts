import { parseEcsInitEnvFile, parseSystemdEnvironmentFile } from '../../concerns/ecs-config/readers.ts';
import { shownValue } from '../../core/config/load.ts';
import { PATHS } from '../../core/paths.ts';
import { readTextIfExists } from '../../host/host.ts';
import { clusterNameOf } from '../../ecs-agent/arn.ts';
import { type Check, fail, ok, warn } from '../check.ts';

/**
 * /etc/ecs/ecs.config is read by systemd (the unit's EnvironmentFile) and by
 * ecs-init, which also reads /var/lib/ecs/ecs.config first. Both must see the
 * same values, and the cluster must be the configured one.
 */
const ECS_INIT_DEFAULTS = '/var/lib/ecs/ecs.config';
const APPLY = 'run "ecs-host-agent apply", which writes every managed key as plain KEY=value';

export const ecsConfig: Check = {
  id: 'ecs-config',
  title: `${PATHS.ecsConfig} read alike by systemd and ecs-init, naming the cluster`,
  async run(context) {
    const text = await context.ecsConfig();
    if (text === null) return fail(`${PATHS.ecsConfig} does not exist: the agent would join the cluster "default"`, APPLY);
    const systemd = parseSystemdEnvironmentFile(text);
    const ecsInit = { ...parseEcsInitEnvFile((await readTextIfExists(context.host, ECS_INIT_DEFAULTS)) ?? ''), ...parseEcsInitEnvFile(text) };
    const differences = [...new Set([...Object.keys(systemd), ...Object.keys(ecsInit)])]
      .filter((key) => key.startsWith('ECS_') && systemd[key] !== ecsInit[key])
      .sort()
      .map((key) => `${key}: systemd reads ${shown(key, systemd[key])}, ecs-init ${shown(key, ecsInit[key])}`);
    const wanted = context.config.ECS_CLUSTER;
    const cluster = ecsInit.ECS_CLUSTER;
    if (cluster === undefined || cluster === '') {
      const evidence = `${PATHS.ecsConfig} sets no ECS_CLUSTER: the agent joins "default"`;
      return wanted === 'default' ? warn(evidence, 'set ECS_CLUSTER=default explicitly') : fail(`${evidence}, not "${wanted}"`, APPLY);
    }
    if (clusterNameOf(cluster) !== wanted) return fail(`ECS_CLUSTER is ${JSON.stringify(cluster)} there, but the agent is configured for "${wanted}"`, APPLY);
    if (differences.length > 0) return fail(`the readers disagree: ${differences.join('; ')}`, APPLY);
    return ok(`ECS_CLUSTER=${cluster}; systemd and ecs-init read the same ${Object.keys(systemd).length} keys`);
  },
};

function shown(key: string, value: string | undefined): string {
  return value === undefined ? 'nothing' : shownValue(key, value);
}
