import packageJson from '../../package.json' with { type: 'json' };
import { ExitCode } from '../core/errors.ts';
import type { CommandImplementation } from './command.ts';
import type { Output } from './output.ts';

export const version: CommandImplementation<Output> = {
  async run(context) {
    const versions = { agent: packageJson.version, node: process.versions.node };
    context.out(context.json ? JSON.stringify(versions) : `ecs-host-agent ${versions.agent} (node ${versions.node})`);
    return ExitCode.ok;
  },
};
