import type { Prerequisite } from './prerequisites.ts';

/**
 * What every distribution's security-update path reports, whatever tool it
 * asks: the packages a security update would change and the advisories behind
 * them, as far as the distribution names them.
 */
export type UpdateManagerName = 'apt' | 'dnf' | 'zypper';

export interface SecurityUpdate {
  readonly package: string;
  /** Installed version; null when the update brings in a new package. */
  readonly from: string | null;
  /** Null when the tool does not say (then the version after apply is recorded). */
  readonly to: string | null;
  /** Advisory ids the distribution ties to this package (dnf); empty when it does not say. */
  readonly advisories: readonly string[];
}

export interface Advisory {
  readonly id: string;
  readonly severity: string | null;
  readonly summary: string | null;
}

export interface PendingUpdates {
  readonly updates: readonly SecurityUpdate[];
  /** Advisories that apply (dnf, zypper); apt names none. */
  readonly advisories: readonly Advisory[];
  /** Amazon Linux 2023: a newer release `dnf check-release-update` offers, or null. */
  readonly newerRelease: string | null;
  /** Facts the operator should see (release pinned, release upgrade skipped …). */
  readonly notes: readonly string[];
}

export interface AppliedUpdates {
  /** The tool itself said a reboot is needed (zypper exit 102). */
  readonly rebootSignalled: boolean;
}

/** One distribution's way to find and apply security updates and to tell whether a reboot is due. */
export interface UpdateManager {
  readonly name: UpdateManagerName;
  /** Tools it runs that are packaged apart from the package manager itself. */
  readonly prerequisites: readonly Prerequisite[];
  /** Refreshes metadata and lists pending security updates; changes no package. */
  check(): Promise<PendingUpdates>;
  /** Applies security updates only, non-interactively, waiting (bounded) for the package-manager lock. */
  apply(): Promise<AppliedUpdates>;
  /** The commands apply runs, for --dry-run. */
  describeApply(): Promise<readonly string[]>;
  /** Version of an installed package (before and after apply), or null. */
  installedVersion(name: string): Promise<string | null>;
  /** The distribution's own "reboot required" signal; null when it cannot tell (the tool is missing). */
  rebootRequired(): Promise<boolean | null>;
}
