import type { ConcernContext } from '../../core/concern.ts';
import { RefusedError } from '../../core/errors.ts';
import { aptUpdates } from './apt/index.ts';
import { dnfUpdates } from './dnf/index.ts';
import type { UpdateManager } from './types.ts';
import { zypperUpdates } from './zypper/index.ts';

/** The security-update path of the managed system's distribution, picked from its os facts. */
export function updateManagerFor(context: ConcernContext): UpdateManager {
  const { support, release } = context.os;
  if (support.status === 'refused') throw new RefusedError(`security updates: ${support.reason}`);
  switch (support.packageManager) {
    case 'apt':
      return aptUpdates(context.host, release.id, context.logger);
    case 'dnf':
      return dnfUpdates(
        context.host,
        { releaseUpgrade: context.config.AL2023_RELEASE_UPGRADE, amazonLinux: release.id === 'amzn' },
        context.logger,
      );
    case 'zypper':
      return zypperUpdates(context.host, context.logger);
    case 'yum':
      throw new RefusedError(
        'security updates: Amazon Linux 2 (yum) is image-only and end of ' +
          'support 2026-06-30; move to Amazon Linux 2023',
      );
  }
}
