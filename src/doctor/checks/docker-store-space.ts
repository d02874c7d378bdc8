import { diskUsage, formatBytes } from '../../block/usage.ts';
import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok, warn } from '../check.ts';

/** A full store stops image pulls, so tasks cannot start. */
const FAIL_PERCENT = 95;
const FAIL_FREE_BYTES = 2 ** 30;
const FIX =
  'remove unused images ("docker image prune -a"), lower ECS_IMAGE_CLEANUP_INTERVAL, or ' +
  'grow the store ("ecs-host-agent storage grow")';

export const dockerStoreSpace: Check = {
  id: 'docker-store-space',
  title: 'free space on the Docker store',
  async run(context) {
    let path = '/var/lib/docker';
    try {
      path = (await context.dockerInfo()).rootDir;
    } catch {
      // Docker is down (the docker-api check says so): its default store is measured.
    }
    let usage;
    try {
      usage = await diskUsage(context.host, path);
    } catch (error) {
      return fail(`cannot measure ${path}: ${messageOf(error)}`, 'install and start Docker (see the docker checks)');
    }
    const evidence =
      `${formatBytes(usage.availableBytes)} free of ${formatBytes(usage.sizeBytes)} ` +
      `on ${path} (${usage.usedPercent}% used)`;
    if (usage.usedPercent >= FAIL_PERCENT || usage.availableBytes < FAIL_FREE_BYTES) return fail(evidence, FIX);
    if (usage.usedPercent >= context.config.STORAGE_WARN_PERCENT)
      return warn(`${evidence}, STORAGE_WARN_PERCENT=${context.config.STORAGE_WARN_PERCENT}`, FIX);
    return ok(evidence);
  },
};
