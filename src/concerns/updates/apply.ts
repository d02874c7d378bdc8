import type { ConcernContext } from '../../core/concern.ts';
import { PATHS } from '../../core/paths.ts';
import type { Host } from '../../host/host.ts';
import { checkPrerequisites } from './prerequisites.ts';
import type { Advisory, PendingUpdates, UpdateManager, UpdateManagerName } from './types.ts';

/**
 * `updates check` and `updates apply`: what is pending, what an apply
 * changed (recorded on disk), and whether the distribution says a reboot is
 * due. An image root (--root) is never rebooted, so it has no reboot signal.
 */
export interface CheckReport extends PendingUpdates {
  readonly manager: UpdateManagerName;
  readonly rebootRequired: boolean | null;
}

export interface ChangedPackage {
  readonly package: string;
  readonly from: string | null;
  readonly to: string | null;
}

export interface ApplyReport {
  readonly manager: UpdateManagerName;
  readonly appliedAt: string;
  readonly changed: readonly ChangedPackage[];
  readonly advisories: readonly Advisory[];
  readonly notes: readonly string[];
  readonly rebootRequired: boolean | null;
}

/** What the last apply changed: for the operator, and for status. */
export const LAST_APPLY_FILE = `${PATHS.agentState}/updates-last-apply.json`;

export async function checkUpdates(context: ConcernContext, manager: UpdateManager): Promise<CheckReport> {
  const pending = await pendingUpdates(manager);
  return { manager: manager.name, ...pending, rebootRequired: await rebootSignal(context.host, manager, false) };
}

/** The manager's check, once its tools are there: a required one missing fails naming it, an optional one is a note. */
export async function pendingUpdates(manager: UpdateManager): Promise<PendingUpdates> {
  const missing = await checkPrerequisites(manager);
  const pending = await manager.check();
  return { ...pending, notes: [...pending.notes, ...missing] };
}

/** Applies pending security updates (nothing runs when none are pending) and records what changed. */
export async function applyUpdates(
  context: ConcernContext,
  manager: UpdateManager,
  pending: PendingUpdates,
): Promise<ApplyReport> {
  const { host } = context;
  let signalled = false;
  let changed: ChangedPackage[] = [];
  if (pending.updates.length > 0) {
    signalled = (await manager.apply()).rebootSignalled;
    const after = await Promise.all(pending.updates.map((update) => manager.installedVersion(update.package)));
    changed = pending.updates
      .map((update, index) => ({ package: update.package, from: update.from, to: after[index] ?? null }))
      .filter((update) => update.to !== update.from);
  }
  const report: ApplyReport = {
    manager: manager.name,
    appliedAt: host.now().toISOString(),
    changed,
    advisories: pending.advisories,
    notes: pending.notes,
    rebootRequired: await rebootSignal(host, manager, signalled),
  };
  if (changed.length > 0) {
    await host.mkdir(PATHS.agentState);
    await host.writeFileAtomic(LAST_APPLY_FILE, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o644 });
  }
  context.logger.info(`security updates: ${changed.length} package(s) changed`, {
    changed: changed.map((update) => `${update.package} ${update.from ?? '-'} -> ${update.to ?? '-'}`),
  });
  return report;
}

async function rebootSignal(host: Host, manager: UpdateManager, signalled: boolean): Promise<boolean | null> {
  if (host.root !== '/') return null;
  return signalled || (await manager.rebootRequired());
}

export type RebootPolicy = 'never' | 'if-needed' | 'always';

/**
 * never: no reboot; if-needed: when the distribution says so; always: also
 * after any apply that changed a package (services keep old libraries mapped
 * until they restart).
 */
export function rebootWanted(policy: RebootPolicy, report: Pick<ApplyReport, 'changed' | 'rebootRequired'>): boolean {
  if (policy === 'never') return false;
  return report.rebootRequired === true || (policy === 'always' && report.changed.length > 0);
}
