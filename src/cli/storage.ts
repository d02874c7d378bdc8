import type { ConcernContext } from '../core/concern.ts';
import { InvalidValue, size as parseSize } from '../core/config/values.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import { formatBytes as bytes } from '../block/usage.ts';
import { growStore } from '../concerns/storage/grow.ts';
import { type StorageSettings, storageSettings } from '../concerns/storage/settings.ts';
import { type StorageStatus, storageStatus } from '../concerns/storage/status.ts';
import type { CommandImplementation, FlagValues } from './command.ts';
import type { Context } from './context.ts';
import { concernContext } from './converge.ts';

const SUBCOMMANDS = 'status or grow';

export const storage: CommandImplementation = {
  async run(context, flags, operands) {
    const [subcommand, ...extra] = operands;
    if (subcommand !== 'status' && subcommand !== 'grow')
      throw new UsageError(`storage: expected ${SUBCOMMANDS}, got ${JSON.stringify(subcommand ?? '')}`);
    if (extra.length > 0) throw new UsageError(`storage ${subcommand}: unexpected ${JSON.stringify(extra[0])}`);
    if (context.host.root !== '/')
      throw new UsageError(
        `storage ${subcommand} acts on a running system's store; an image root (--root) has none until it boots`,
      );
    const settings = storageSettings(context.config);
    if (settings === null)
      throw new UsageError(
        `storage ${subcommand}: STORAGE_MODE=none (${context.config.origins.STORAGE_MODE}); nothing is managed`,
      );
    const concerns = await concernContext(context, flags);
    return subcommand === 'status' ? status(context, concerns, settings) : grow(context, concerns, settings, flags);
  },
};

async function status(context: Context, concernContext: ConcernContext, settings: StorageSettings): Promise<number> {
  const report = await storageStatus(concernContext, settings);
  if (report.warning) context.logger.warn(report.warning, { usedPercent: report.usage?.usedPercent });
  context.out(context.json ? JSON.stringify(report, null, 2) : renderStatus(report));
  return ExitCode.ok;
}

async function grow(
  context: Context,
  concernContext: ConcernContext,
  settings: StorageSettings,
  flags: FlagValues,
): Promise<number> {
  const result = await growStore(concernContext, settings, sizeFlag(flags.size));
  context.out(context.json ? JSON.stringify(result) : `grown from ${bytes(result.before)} to ${bytes(result.after)}`);
  return ExitCode.ok;
}

function sizeFlag(value: string | boolean | undefined): number | null {
  if (typeof value !== 'string') return null;
  try {
    return parseSize(value);
  } catch (error) {
    if (error instanceof InvalidValue)
      throw new UsageError(`storage grow: --size ${JSON.stringify(value)} ${error.message}; allowed: ${error.allowed}`);
    throw error;
  }
}

function renderStatus(report: StorageStatus): string {
  const { usage } = report;
  const rows: [string, string][] = [
    ['mode', report.mode],
    [
      'backing',
      report.backingExists
        ? `${report.backing}, ${bytes(report.backingSize)}${allocated(report)}`
        : `${report.backing} (not created yet: run apply)`,
    ],
    ['mounted', report.mounted ? `yes, on ${report.mountPoint}` : `no (${report.mountPoint})`],
    ...(usage
      ? ([
          ['size', bytes(usage.deviceSize)],
          ['used', `${bytes(usage.used)} (${usage.usedPercent}%, warning at ${report.warnPercent}%)`],
          ['free', `${bytes(usage.freeEstimated)} (estimated)`],
          ['ratios', `data ${usage.dataRatio.toFixed(2)}, metadata ${usage.metadataRatio.toFixed(2)}`],
        ] as [string, string][])
      : []),
    ['docker driver', report.dockerDriver ?? 'no Docker daemon answered'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

function allocated(report: StorageStatus): string {
  return report.backingAllocated === null ? '' : ` (${bytes(report.backingAllocated)} allocated: thin)`;
}
