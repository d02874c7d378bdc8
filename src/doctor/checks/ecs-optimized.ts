import { checkOptimizedAmiOnline } from '../../os/optimized-online.ts';
import { type Check, fail, ok, warn } from '../check.ts';

/** An ECS-optimized AMI already manages ecs-init; this agent would fight it. */
export const ecsOptimized: Check = {
  id: 'ecs-optimized',
  title: 'not an ECS-optimized AMI',
  async run(context) {
    const facts = await context.os();
    const online = await checkOptimizedAmiOnline(context.host, context.config, facts.release);
    const evidence = [...facts.ecsOptimizedEvidence, ...online.evidence];
    if (evidence.length === 0) return ok(`no ECS-optimized markers; online check ${online.note}`);
    const found = evidence.join('; ');
    const fix = 'launch the host from a plain AMI of its distribution (an ECS-optimized AMI needs no agent)';
    return context.config.ALLOW_ECS_OPTIMIZED ? warn(`${found} (ALLOW_ECS_OPTIMIZED=yes)`, fix) : fail(found, fix);
  },
};
