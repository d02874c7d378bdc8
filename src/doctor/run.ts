import { messageOf } from '../core/errors.ts';
import type { Check, Finding, Verdict } from './check.ts';
import type { DoctorContext } from './context.ts';

/** A check's finding with its name; a check that throws is a failure of that check only. */
export interface Report extends Finding {
  readonly id: string;
  readonly title: string;
}

/**
 * Checks run side by side (each network step is bounded); shared facts are gathered once. Reports keep the checks'
 * order.
 */
export function runChecks(checks: readonly Check[], context: DoctorContext): Promise<Report[]> {
  return Promise.all(
    checks.map(async (check) => ({ id: check.id, title: check.title, ...(await findingOf(check, context)) })),
  );
}

async function findingOf(check: Check, context: DoctorContext): Promise<Finding> {
  try {
    return await check.run(context);
  } catch (error) {
    return {
      verdict: 'fail',
      evidence: `the check itself failed: ${messageOf(error)}`,
      fix: 'report this as a bug of ecs-host-agent, with the evidence',
    };
  }
}

export function counts(reports: readonly Report[]): Record<Verdict, number> {
  const tally: Record<Verdict, number> = { ok: 0, warn: 0, fail: 0 };
  for (const report of reports) tally[report.verdict]++;
  return tally;
}

export function renderReports(reports: readonly Report[]): string {
  const width = Math.max(...reports.map((report) => report.id.length));
  const lines = reports.flatMap((report) => [
    `${report.verdict.toUpperCase().padEnd(4)}  ${report.id.padEnd(width)}  ${report.evidence}`,
    ...(report.fix ? [`${' '.repeat(width + 8)}fix: ${report.fix}`] : []),
  ]);
  const tally = counts(reports);
  return [...lines, '', `${tally.ok} ok, ${tally.warn} warnings, ${tally.fail} failed`].join('\n');
}
