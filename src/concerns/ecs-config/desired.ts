import type { Config } from '../../core/config/load.ts';
import type { OsFacts } from '../../os/facts.ts';

const GPU_KEY = 'ECS_ENABLE_GPU_SUPPORT';

/**
 * The keys the agent writes to ecs.config and their values: ECS_CLUSTER,
 * every ECS_* pass-through key (already validated by the config loader), then
 * ECS_ENABLE_GPU_SUPPORT=true on a host with an NVIDIA GPU unless GPU_SUPPORT=no.
 * A GPU setting given in config wins over detection. Sorted, so the file does
 * not change with the order of the environment.
 */
export function managedValues(config: Config, os: OsFacts): Map<string, string> {
  const managed = new Map([['ECS_CLUSTER', config.ECS_CLUSTER]]);
  for (const name of Object.keys(config.ecsPassThrough).sort())
    managed.set(name, config.ecsPassThrough[name] as string);
  if (gpuDetected(config, os) && !managed.has(GPU_KEY)) managed.set(GPU_KEY, 'true');
  return managed;
}

/** An image root has no devices (nvidiaGpus is null): GPU support is decided on the host that boots it. */
function gpuDetected(config: Config, os: OsFacts): boolean {
  return config.GPU_SUPPORT === 'auto' && (os.nvidiaGpus ?? 0) > 0;
}
