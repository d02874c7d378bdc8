import { type CheckReport, checkUpdates } from '../concerns/updates/apply.ts';
import { applyAndReboot, type UpdatesRun } from '../concerns/updates/flow.ts';
import { updateManagerFor } from '../concerns/updates/manager.ts';
import { readSequenceRecord } from '../concerns/updates/reboot/record.ts';
import { updateSettings } from '../concerns/updates/settings.ts';
import type { SecurityUpdate, UpdateManager } from '../concerns/updates/types.ts';
import { isInsideWindow } from '../concerns/updates/window.ts';
import type { ConcernContext } from '../core/concern.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import type { CommandImplementation } from './command.ts';
import type { Context } from './context.ts';
import { concernContext } from './converge.ts';

export const updates: CommandImplementation = {
  async run(context, flags, operands) {
    const [subcommand, ...extra] = operands;
    if (subcommand !== 'check' && subcommand !== 'apply')
      throw new UsageError(`updates: expected check or apply, got ${JSON.stringify(subcommand ?? '')}`);
    if (extra.length > 0) throw new UsageError(`updates ${subcommand}: unexpected ${JSON.stringify(extra[0])}`);
    if (subcommand === 'check' && (flags.reboot !== undefined || flags['dry-run']))
      throw new UsageError('updates check changes nothing: --reboot and --dry-run belong to updates apply');
    const concerns = await concernContext(context, flags);
    const manager = updateManagerFor(concerns);
    if (subcommand === 'check' || flags['dry-run']) return check(context, concerns, manager, flags['dry-run'] === true);
    return apply(context, concerns, manager);
  },
};

async function check(
  context: Context,
  concerns: ConcernContext,
  manager: UpdateManager,
  dryRun: boolean,
): Promise<number> {
  const report = await checkUpdates(concerns, manager);
  const sequence = context.host.root === '/' ? await readSequenceRecord(context.host) : null;
  const commands = dryRun && report.updates.length > 0 ? await manager.describeApply() : [];
  const reboot = dryRun ? rebootPreview(context, report) : null;
  if (context.json)
    context.out(
      JSON.stringify({ ...report, rebootSequence: sequence, ...(dryRun ? { commands, reboot } : {}) }, null, 2),
    );
  else
    context.out(
      [
        ...renderCheck(report),
        ...(sequence ? [`reboot sequence recorded: ${sequence.phase} since ${sequence.startedAt}`] : []),
        ...renderPreview(commands, reboot),
      ].join('\n'),
    );
  return ExitCode.ok;
}

async function apply(context: Context, concerns: ConcernContext, manager: UpdateManager): Promise<number> {
  const settings = updateSettings(context.config);
  const run = await applyAndReboot(concerns, manager, settings, context.config.REBOOT_POLICY);
  context.out(context.json ? JSON.stringify(run, null, 2) : renderRun(run).join('\n'));
  return run.reboot.outcome === 'drain-timeout' ? ExitCode.failed : ExitCode.ok;
}

function rebootPreview(context: Context, report: CheckReport): string {
  const { config, host } = context;
  if (host.root !== '/') return 'an image root is not rebooted';
  if (config.REBOOT_POLICY === 'never') return 'no reboot (policy never)';
  const inside = isInsideWindow(config.UPDATE_WINDOW, config.UPDATE_TIMEZONE, host.now());
  const when = inside
    ? 'now (inside the window)'
    : `in the window ${config.UPDATE_WINDOW.text} (${config.UPDATE_TIMEZONE})`;
  const condition =
    config.REBOOT_POLICY === 'always'
      ? 'after any change'
      : report.rebootRequired
        ? 'required already'
        : 'if the distribution asks for it after the updates';
  return (
    `reboot ${condition}, ${when}: drain, at most ${config.MAX_CONCURRENT_REBOOTS} host(s) of ` +
    `cluster "${config.ECS_CLUSTER}" at once`
  );
}

function renderAdvisory(advisory: CheckReport['advisories'][number]): string {
  return advisory.severity ? `${advisory.id} (${advisory.severity})` : advisory.id;
}

function renderCheck(report: CheckReport): string[] {
  const lines = [`${report.updates.length} security update(s) pending (${report.manager})`];
  lines.push(...report.updates.map(renderUpdate));
  if (report.advisories.length > 0) lines.push(`advisories: ${report.advisories.map(renderAdvisory).join(', ')}`);
  if (report.newerRelease) lines.push(`newer release available: ${report.newerRelease}`);
  lines.push(...report.notes.map((note) => `note: ${note}`));
  lines.push(
    `reboot required: ` +
      `${report.rebootRequired === null ? 'unknown (no signal here)' : report.rebootRequired ? 'yes' : 'no'}`,
  );
  return lines;
}

function renderUpdate(update: SecurityUpdate): string {
  const advisories = update.advisories.length > 0 ? `  ${update.advisories.join(', ')}` : '';
  return `  ${update.package} ${update.from ?? '(new)'} -> ${update.to ?? '(newest allowed)'}${advisories}`;
}

function renderPreview(commands: readonly string[], reboot: string | null): string[] {
  if (reboot === null) return [];
  return [
    'dry run: nothing changed; apply would run:',
    ...(commands.length ? commands.map((command) => `  ${command}`) : ['  nothing (no security update pending)']),
    `then: ${reboot}`,
  ];
}

function renderRun(run: UpdatesRun): string[] {
  const { applied } = run;
  return [
    ...(run.resumed ? [`earlier reboot sequence: ${run.resumed.message}`] : []),
    `${applied.changed.length} security update(s) applied (${applied.manager})`,
    ...applied.changed.map((change) => `  ${change.package} ${change.from ?? '(new)'} -> ${change.to ?? '(removed)'}`),
    `reboot: ${run.reboot.message}`,
  ];
}
