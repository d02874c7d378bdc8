import { type Check, fail } from '../check.ts';
import { unitFinding } from './unit.ts';

export const dockerService: Check = {
  id: 'docker-service',
  title: 'Docker installed and running',
  async run(context) {
    const facts = await context.os();
    if (facts.docker === null)
      return fail('no Docker package is installed', 'run "ecs-host-agent apply" to install Docker');
    return unitFinding(context.host, facts, `${facts.docker.name} ${facts.docker.version}`, 'docker.service');
  },
};
