import { ExitCode } from '../core/errors.ts';
import { setInstanceStatus } from '../ecs-agent/drain.ts';
import type { CommandImplementation } from './command.ts';
import { dryRun, thisInstance } from './drain.ts';

export const activate: CommandImplementation = {
  async run(context, flags) {
    const { ecs, instance } = await thisInstance(context, 'activate');
    if (flags['dry-run']) return dryRun(context, instance, 'set ACTIVE');
    await setInstanceStatus(ecs, instance, 'ACTIVE');
    context.out(
      context.json
        ? JSON.stringify({ ...instance, status: 'ACTIVE' }, null, 2)
        : `${instance.containerInstanceArn} ACTIVE`,
    );
    return ExitCode.ok;
  },
};
