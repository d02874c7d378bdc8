import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok, warn } from '../check.ts';

/** The driver Docker runs with, against the one config asks for (btrfs with STORAGE_MODE set). */
const DISCOURAGED: Readonly<Record<string, string>> = {
  vfs: 'vfs copies every layer in full: slow and wasteful',
  devicemapper: 'devicemapper is deprecated and removed from current Docker',
};

export const dockerStorageDriver: Check = {
  id: 'docker-storage-driver',
  title: 'Docker storage driver as configured',
  async run(context) {
    let driver: string;
    try {
      driver = (await context.dockerInfo()).driver;
    } catch (error) {
      return fail(`cannot ask Docker for its storage driver: ${messageOf(error)}`, 'fix the docker-api check first');
    }
    const { STORAGE_MODE } = context.config;
    if (STORAGE_MODE !== 'none' && driver !== 'btrfs') {
      return fail(
        `Docker runs the ${driver} driver, but STORAGE_MODE=${STORAGE_MODE} wants btrfs`,
        'run "ecs-host-agent apply", then restart Docker',
      );
    }
    const problem = DISCOURAGED[driver];
    if (problem)
      return warn(
        `Docker runs the ${driver} driver: ${problem}`,
        'use overlay2, or STORAGE_MODE=btrfs-file for a Btrfs store',
      );
    return ok(`Docker runs the ${driver} driver${STORAGE_MODE === 'none' ? '' : ` (STORAGE_MODE=${STORAGE_MODE})`}`);
  },
};
