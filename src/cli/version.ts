import packageJson from '../../package.json' with { type: 'json' };
import { ExitCode } from '../core/errors.ts';
import type { Command } from './command.ts';

export const version: Command = {
  name: 'version',
  summary: 'print the agent and runtime versions',
  usage: 'version [--json]',
  options: {},
  async run(context) {
    const versions = { agent: packageJson.version, node: process.versions.node };
    context.out(context.json ? JSON.stringify(versions) : `ecs-host-agent ${versions.agent} (node ${versions.node})`);
    return ExitCode.ok;
  },
};
