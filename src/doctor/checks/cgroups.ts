import type { InstalledPackage } from '../../os/facts.ts';
import { type Check, fail, ok } from '../check.ts';

/**
 * The ECS agent enforces task memory through the memory controller. On
 * cgroup v2 it needs ecs-init 1.60 or later and Docker 20.10 or later.
 */
const V2_MINIMUM: readonly { readonly what: string; readonly version: readonly [number, number] }[] = [
  { what: 'docker', version: [20, 10] },
  { what: 'ecsInit', version: [1, 60] },
];

export const cgroups: Check = {
  id: 'cgroups',
  title: 'cgroup memory controller (and cgroup v2 support)',
  async run(context) {
    const facts = await context.os();
    const { cgroups: found } = facts;
    if (found === null)
      return fail('no cgroup hierarchy under /sys/fs/cgroup', 'boot a kernel with cgroups mounted (systemd does this)');
    if (!found.memoryController) {
      return fail(
        `cgroup v${found.version} without the memory controller`,
        'enable it on the kernel command line (cgroup_enable=memory) and reboot',
      );
    }
    if (found.version === 2) {
      for (const { what, version } of V2_MINIMUM) {
        const installed = facts[what as 'docker' | 'ecsInit'];
        if (installed && olderThan(installed, version)) {
          return fail(
            `cgroup v2, but ${installed.name} ${installed.version} predates cgroup v2 support (${version.join('.')})`,
            `upgrade ${installed.name}, or boot with systemd.unified_cgroup_hierarchy=0`,
          );
        }
      }
    }
    return ok(`cgroup v${found.version} with the memory controller`);
  },
};

function olderThan(installed: InstalledPackage, minimum: readonly [number, number]): boolean {
  const match = /^(?:\d+:)?(\d+)\.(\d+)/.exec(installed.version);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major < minimum[0] || (major === minimum[0] && minor < minimum[1]);
}
