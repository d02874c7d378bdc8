import { messageOf, RefusedError } from '../../core/errors.ts';
import { assertManageable } from '../../os/manageable.ts';
import { SUPPORTED_LIST } from '../../os/support.ts';
import { type Check, fail, ok } from '../check.ts';

/** The release, and a glibc new enough for the agent's own Node.js runtime. */
export const osSupport: Check = {
  id: 'os-support',
  title: 'supported OS and runtime',
  async run(context) {
    let facts;
    try {
      facts = await context.os();
    } catch (error) {
      return fail(messageOf(error), `run the agent on ${SUPPORTED_LIST}`);
    }
    const { release, support, arch, glibc } = facts;
    try {
      // ECS-optimized markers are the next check's subject, so they are allowed here.
      assertManageable(facts, { allowEcsOptimized: true });
    } catch (error) {
      if (error instanceof RefusedError) return fail(error.message, `run the agent on ${SUPPORTED_LIST}`);
      throw error;
    }
    const manager = support.status === 'refused' ? '' : `, packages with ${support.packageManager}`;
    return ok(`${release.prettyName} on ${arch ?? 'an unknown architecture'}, glibc ${glibc ?? 'unknown'}${manager}`);
  },
};
