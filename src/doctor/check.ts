import type { DoctorContext } from './context.ts';

/**
 * One diagnosis of `doctor`: a question about why a host might not register
 * or not be healthy, answered with a verdict, the evidence it rests on, and
 * (unless ok) the fix in one sentence.
 */
export type Verdict = 'ok' | 'warn' | 'fail';

export interface Finding {
  readonly verdict: Verdict;
  readonly evidence: string;
  /** One sentence; absent when the verdict is ok. */
  readonly fix?: string;
}

export interface Check {
  readonly id: string;
  readonly title: string;
  run(context: DoctorContext): Promise<Finding>;
}

export function ok(evidence: string): Finding {
  return { verdict: 'ok', evidence };
}

export function warn(evidence: string, fix: string): Finding {
  return { verdict: 'warn', evidence, fix };
}

export function fail(evidence: string, fix: string): Finding {
  return { verdict: 'fail', evidence, fix };
}
