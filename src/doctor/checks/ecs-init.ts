import { ECS_INIT_PLATFORMS } from '../../concerns/ecs/platform.ts';
import { type Check, fail } from '../check.ts';
import { unitFinding } from './unit.ts';

export const ecsInit: Check = {
  id: 'ecs-init',
  title: 'ecs-init installed and its unit enabled',
  async run(context) {
    const facts = await context.os();
    if (facts.support.status === 'refused') return fail(facts.support.reason, 'see the os-support check');
    if (facts.ecsInit === null) return fail('ecs-init is not installed', 'run "ecs-host-agent apply" to install it');
    const { unit } = ECS_INIT_PLATFORMS[facts.support.packageManager];
    return unitFinding(context.host, facts, `${facts.ecsInit.name} ${facts.ecsInit.version}`, unit);
  },
};
