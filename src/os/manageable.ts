import { RefusedError } from '../core/errors.ts';
import type { OsFacts } from './facts.ts';

const MIN_GLIBC = [2, 28];

export interface ManageableOptions {
  readonly allowEcsOptimized: boolean;
  /** Evidence from the online check (IMDS ami-id among the SSM public parameters). */
  readonly onlineEvidence?: readonly string[];
}

/**
 * Refuses a system the agent must not manage, with the reason spelled out.
 * Returns warnings to log loudly when the operator overrode a refusal.
 */
export function assertManageable(facts: OsFacts, options: ManageableOptions): string[] {
  const name = facts.release.prettyName;
  if (facts.support.status === 'refused') throw new RefusedError(`${name}: ${facts.support.reason}`);
  if (facts.support.status === 'image-only' && facts.root === '/') {
    throw new RefusedError(`${name} cannot be a host: ${facts.support.reason}`);
  }
  if (facts.root === '/' && facts.glibc !== null && !atLeast(facts.glibc, MIN_GLIBC)) {
    throw new RefusedError(
      `${name} has glibc ${facts.glibc}; the agent's Node.js 24 runtime needs ${MIN_GLIBC.join('.')} or later`,
    );
  }
  const evidence = [...facts.ecsOptimizedEvidence, ...(options.onlineEvidence ?? [])];
  if (evidence.length === 0) return [];
  if (!options.allowEcsOptimized) {
    throw new RefusedError(
      `${name} looks like an Amazon ECS-optimized AMI, which manages ECS itself; use a plain AMI, or ` +
        `--allow-ecs-optimized if you know why`,
      evidence,
    );
  }
  return [
    `--allow-ecs-optimized: managing what looks like an ECS-optimized AMI; ecs-init may be ` +
      `managed twice (${evidence.join('; ')})`,
  ];
}

function atLeast(version: string, minimum: readonly number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < minimum.length; i++) {
    const have = parts[i] ?? 0;
    const need = minimum[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}
