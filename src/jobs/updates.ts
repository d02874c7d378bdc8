import type { MakeSequenceDeps } from '../concerns/updates/flow.ts';
import { updateSettings } from '../concerns/updates/settings.ts';
import { isInsideWindow } from '../concerns/updates/window.ts';
import type { Job, JobResult } from '../daemon/job.ts';

/**
 * The daemon's updates job: every run first finishes or rolls back a reboot
 * sequence recorded on disk (so the first run after a start resumes one),
 * then looks for security updates; inside the maintenance window it applies
 * them and reboots by policy, a few hosts of the fleet at a time. A tool it
 * needs that is not installed (unattended-upgrades) fails the run with its
 * name and package: the daemon logs that once and the converge installs it.
 * What the run needs (package managers, the reboot sequence, the AWS SDK it
 * drains and locks with) loads in the run's own process: the daemon never
 * holds it.
 */
export function createUpdatesJob(sequenceDeps?: MakeSequenceDeps): Job {
  return {
    name: 'updates',
    ownProcess: true,
    intervalMs: (context) => (context.host.root === '/' ? context.config.UPDATES_CHECK_INTERVAL : null),
    async run(context): Promise<JobResult> {
      const [{ checkUpdates }, { applyAndReboot, resumeRecorded }, { updateManagerFor }] = await Promise.all([
        import('../concerns/updates/apply.ts'),
        import('../concerns/updates/flow.ts'),
        import('../concerns/updates/manager.ts'),
      ]);
      const makeDeps = sequenceDeps ?? (await import('../concerns/updates/reboot/deps.ts')).hostSequenceDeps;
      const settings = updateSettings(context.config);
      const manager = updateManagerFor(context);
      if (!isInsideWindow(settings.window, settings.timeZone, context.host.now())) {
        const resumed = await resumeRecorded(context, settings, makeDeps);
        const report = await checkUpdates(context, manager);
        const reboot = report.rebootRequired ? '; a reboot is required' : '';
        const window = `applied in the window ${settings.window.text} (${settings.timeZone})`;
        const pending = `${report.updates.length} security update(s) pending${reboot}`;
        const summary = [pending, window, ...report.notes].join('; ');
        return { summary: resumed ? `${resumed.message}; ${summary}` : summary, details: { resumed, check: report } };
      }
      const run = await applyAndReboot(context, manager, settings, settings.rebootPolicy, makeDeps);
      const applied = `${run.applied.changed.length} security update(s) applied`;
      const summary = [applied, run.reboot.message, ...run.applied.notes].join('; ');
      return { summary: run.resumed ? `${run.resumed.message}; ${summary}` : summary, details: run };
    },
  };
}

export const updatesJob: Job = createUpdatesJob();
