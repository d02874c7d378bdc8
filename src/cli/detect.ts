import { ExitCode } from '../core/errors.ts';
import type { CommandImplementation } from './command.ts';
import { inspect } from './inspect.ts';
import { renderFacts } from './render.ts';

export const detect: CommandImplementation = {
  async run(context) {
    const { facts, online, refusal } = await inspect(context);
    const verdict = refusal
      ? { manageable: false, reason: refusal.message, evidence: refusal.evidence }
      : { manageable: true };
    if (context.json) context.out(JSON.stringify({ ...facts, onlineCheck: online, ...verdict }, null, 2));
    else context.out(renderFacts(facts, online.note, refusal ? `refused: ${refusal.message}` : 'manageable'));
    if (refusal) {
      context.logger.error(refusal.message, refusal.evidence.length ? { evidence: refusal.evidence } : {});
      return ExitCode.refused;
    }
    if (facts.packagesUnknown !== null) {
      context.logger.error(`the installed packages are unknown: ${facts.packagesUnknown}`);
      return ExitCode.failed;
    }
    return ExitCode.ok;
  },
};
