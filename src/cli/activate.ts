import { ExitCode } from '../core/errors.ts';
import { setInstanceStatus } from '../ecs-agent/drain.ts';
import type { Command } from './command.ts';
import { dryRun, thisInstance } from './drain.ts';

export const activate: Command = {
  name: 'activate',
  summary: 'set this container instance ACTIVE again after maintenance by hand',
  usage: 'activate [--dry-run] [--json]',
  options: { 'dry-run': { type: 'boolean' } },
  async run(context, flags) {
    const { ecs, instance } = await thisInstance(context, 'activate');
    if (flags['dry-run']) return dryRun(context, instance, 'set ACTIVE');
    await setInstanceStatus(ecs, instance, 'ACTIVE');
    context.out(context.json ? JSON.stringify({ ...instance, status: 'ACTIVE' }, null, 2) : `${instance.containerInstanceArn} ACTIVE`);
    return ExitCode.ok;
  },
};
