import { ExitCode } from '../core/errors.ts';
import type { Command } from './command.ts';
import { inspect } from './inspect.ts';
import { renderFacts } from './render.ts';

export const detect: Command = {
  name: 'detect',
  summary: 'report the OS, machine and ECS facts, and whether the agent will manage this system',
  usage: 'detect [--json] [--root DIR] [--allow-ecs-optimized]',
  options: { 'allow-ecs-optimized': { type: 'boolean' } },
  configFlags: { 'allow-ecs-optimized': 'ALLOW_ECS_OPTIMIZED' },
  async run(context) {
    const { facts, online, refusal } = await inspect(context);
    const verdict = refusal ? { manageable: false, reason: refusal.message, evidence: refusal.evidence } : { manageable: true };
    if (context.json) context.out(JSON.stringify({ ...facts, onlineCheck: online, ...verdict }, null, 2));
    else context.out(renderFacts(facts, online.note, refusal ? `refused: ${refusal.message}` : 'manageable'));
    if (refusal) {
      context.logger.error(refusal.message, refusal.evidence.length ? { evidence: refusal.evidence } : {});
      return ExitCode.refused;
    }
    return ExitCode.ok;
  },
};
