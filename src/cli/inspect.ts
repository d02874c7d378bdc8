import { AgentError, RefusedError } from '../core/errors.ts';
import { gatherOsFacts, type OsFacts } from '../os/facts.ts';
import { assertManageable } from '../os/manageable.ts';
import { checkOptimizedAmiOnline, type OnlineCheck } from '../os/optimized-online.ts';
import type { Context } from './context.ts';

export interface Inspection {
  readonly facts: OsFacts;
  readonly online: OnlineCheck;
  /** Null when the system may be managed; the refusal otherwise. */
  readonly refusal: RefusedError | null;
}

/** Facts, online ECS-optimized check and the verdict: what detect prints and every other command starts from. */
export async function inspect(context: Context): Promise<Inspection> {
  const facts = await gatherOsFacts(context.host);
  const online = await checkOptimizedAmiOnline(context.host, context.config, facts.release);
  try {
    const warnings = assertManageable(facts, {
      allowEcsOptimized: context.config.ALLOW_ECS_OPTIMIZED,
      onlineEvidence: online.evidence,
    });
    for (const warning of warnings) context.logger.warn(warning);
    return { facts, online, refusal: null };
  } catch (error) {
    if (error instanceof RefusedError) return { facts, online, refusal: error };
    throw error;
  }
}

/**
 * Like inspect, but a refused system stops the command (exit 3), and then one whose packages this machine
 * cannot read (exit 1, naming the missing tool): nothing can be planned without them.
 */
export async function inspectManageable(context: Context): Promise<OsFacts> {
  const { facts, refusal } = await inspect(context);
  if (refusal) throw refusal;
  if (facts.packagesUnknown !== null) {
    throw new AgentError(`cannot read the installed packages of ${facts.root}: ${facts.packagesUnknown}`);
  }
  return facts;
}
