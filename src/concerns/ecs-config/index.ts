import type { Concern, ConcernContext } from '../../core/concern.ts';
import { decodeLossless } from '../../core/config/text.ts';
import { PATHS } from '../../core/paths.ts';
import { performSteps } from '../../core/step.ts';
import { managedValues } from './desired.ts';
import { type EcsConfigAction, type EcsConfigFacts, planEcsConfig, warnEcsConfig } from './plan.ts';
import { readManagedKeys } from './state.ts';
import { detectSystemdVersion } from './systemd-version.ts';

/**
 * /etc/ecs/ecs.config, read by systemd, ecs-init and the ECS agent: the
 * cluster, every ECS_* key from config and GPU support, written so all three
 * read the same values, with the operator's own lines kept in place.
 */
export const ecsConfigConcern: Concern<EcsConfigFacts, EcsConfigAction> = {
  name: 'ecs-config',
  enabled: () => true,
  gather: (context) => gatherEcsConfig(context),
  plan: (facts, { config, os }) => planEcsConfig(facts, managedValues(config, os)),
  warnings: (facts, { config, os }) => warnEcsConfig(facts, managedValues(config, os)),
  apply: (action, { host }) => performSteps(host, action.steps),
};

/** Read as bytes, decoded losslessly: invalid UTF-8 in hand-written lines is modelled, and kept as it is. */
async function gatherEcsConfig({ host, os }: ConcernContext): Promise<EcsConfigFacts> {
  const info = await host.stat(PATHS.ecsConfig);
  return {
    text: info === null ? null : decodeLossless(await host.readBytes(PATHS.ecsConfig)),
    mode: info?.mode ?? null,
    managedKeys: await readManagedKeys(host),
    systemd: await detectSystemdVersion(host, os),
  };
}
