/**
 * The tools the updates job needs besides the package manager: `plan`/`apply` install what is missing, and until
 * then the job says precisely what is missing, once, and recovers when it is there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkUpdates } from '../../../src/concerns/updates/apply.ts';
import { createUpdatesJob } from '../../../src/jobs/updates.ts';
import { updateManagerFor } from '../../../src/concerns/updates/manager.ts';
import { PrerequisiteMissing } from '../../../src/concerns/updates/prerequisites.ts';
import { updateToolsConcern } from '../../../src/concerns/updates/tools.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { type Logger, silentLogger } from '../../../src/core/logger.ts';
import { applyAll, planAll } from '../../../src/core/runner.ts';
import { renderSteps } from '../../../src/core/step.ts';
import { createTaskLog } from '../../../src/daemon/task-log.ts';
import type { TaskRecord } from '../../../src/daemon/scheduler.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import type { FakeHost } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';

const UNATTENDED_INSTALLED =
  'Package: unattended-upgrades\nStatus: install ok installed\nVersion: 2.9.1+nmu3\nArchitecture: all\n\n';

async function contextFor(
  host: FakeHost,
  env: Record<string, string> = {},
  logger: Logger = silentLogger,
): Promise<ConcernContext> {
  // Outside the default window (Sunday 03:00-05:00 UTC): the job only checks.
  host.clock = new Date('2026-11-24T12:00:00Z');
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return { host, config, os: await gatherOsFacts(host), logger, resetAgentState: false };
}

/** apt-get and unattended-upgrade answer as on a host with nothing pending; every command is recorded. */
function debian(): FakeHost {
  return fakeHostFor('debian-12')
    .answer('apt-get', {})
    .answer('unattended-upgrade', { stdout: 'Packages that will be upgraded: \n' })
    .answer('debconf-set-selections', {});
}

test('updates check without unattended-upgrades: fails naming the tool and its package, and runs nothing', async () => {
  const host = debian();
  const context = await contextFor(host);
  await assert.rejects(
    checkUpdates(context, updateManagerFor(context)),
    (error: Error) =>
      error instanceof PrerequisiteMissing &&
      /^security updates: unattended-upgrade is not installed \(package unattended-upgrades\), so .*; `ecs-host-/.test(
        error.message,
      ),
  );
  assert.deepEqual(host.commands(), [], 'no command was started (no ENOENT)');
});

test('dnf without dnf-plugins-core still checks, and notes that it cannot tell whether to reboot', async () => {
  const host = fakeHostFor('amzn-2023')
    .answer('dnf', { exitCode: 0, stdout: '' }, ['check-release-update'])
    .answer('dnf', { exitCode: 0, stdout: '' }, ['-q'])
    .answer('dnf', { exitCode: 1, stdout: 'No such command: needs-restarting.' }, ['needs-restarting']);
  const context = await contextFor(host);
  const report = await checkUpdates(context, updateManagerFor(context));
  assert.equal(report.rebootRequired, null);
  assert.ok(
    report.notes.some((note) =>
      /^dnf needs-restarting is not installed \(package dnf-plugins-core\), so whether an update needs a reboot c/.test(
        note,
      ),
    ),
    report.notes.join('\n'),
  );
});

test('the updates job: the missing tool logged once over many runs; once installed, the job succeeds', async () => {
  const host = debian();
  const lines: string[] = [];
  const record = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  const logger: Logger = { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') };
  const taskLog = createTaskLog(logger);
  const job = createUpdatesJob();
  const run = async (attempt: number): Promise<TaskRecord> => {
    const context = await contextFor(host);
    const startedAt = host.now().toISOString();
    const base = {
      name: 'updates',
      startedAt,
      durationMs: 1,
      nextRunAt: new Date(host.now().getTime() + 3600_000).toISOString(),
    };
    try {
      const { summary } = await job.run({ ...context, signal: new AbortController().signal });
      return { ...base, result: 'ok', summary, consecutiveFailures: 0 };
    } catch (error) {
      return { ...base, result: 'failed', summary: (error as Error).message, consecutiveFailures: attempt };
    }
  };
  const records: TaskRecord[] = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    records.push(await run(attempt));
    taskLog(records.at(-1) as TaskRecord, host.now().getTime());
    host.clock = new Date(host.clock.getTime() + 3600_000);
  }
  assert.ok(
    records.every(
      (r) =>
        r.result === 'failed' && /unattended-upgrade is not installed \(package unattended-upgrades\)/.test(r.summary),
    ),
  );
  assert.equal(lines.filter((line) => !line.startsWith('debug')).length, 1, lines.join('\n'));
  assert.match(
    lines[0] ?? '',
    /^error: updates failed \(attempt 1\): security updates: unattended-upgrade is not installed/,
  );

  host.putFile('/var/lib/dpkg/status', UNATTENDED_INSTALLED);
  const recovered = await run(0);
  taskLog(recovered, host.now().getTime());
  assert.equal(recovered.result, 'ok');
  assert.match(recovered.summary, /^0 security update\(s\) pending; applied in the window Sun 03:00-05:00 \(UTC\)$/);
  assert.match(lines.at(-1) ?? '', /^info: updates: 0 security update\(s\) pending.* \(recovered; failing since /);
});

test("plan: debconf told to leave apt's daily upgrades off, unattended-upgrades installed; then nothing", async () => {
  const host = debian();
  const context = await contextFor(host);
  const [plan] = await planAll([updateToolsConcern], context);
  assert.deepEqual(
    plan?.actions.map((action) => action.summary),
    [
      'answer debconf for unattended-upgrades before installing',
      'install unattended-upgrades (the updates job runs unattended-upgrade)',
    ],
  );
  assert.deepEqual(renderSteps(plan?.actions[0]?.steps ?? []), [
    'debconf-set-selections <<< "unattended-upgrades unattended-upgrades/enable_auto_updates boolean false\\n"',
  ]);
  assert.ok(
    renderSteps(plan?.actions[1]?.steps ?? []).some((line) =>
      / install -y --no-install-recommends -- unattended-upgrades$/.test(line),
    ),
  );

  host.onExec((file, args) => {
    if (file === 'apt-get' && args.includes('install')) host.putFile('/var/lib/dpkg/status', UNATTENDED_INSTALLED);
    return undefined;
  });
  // The handler above must see the install before the generic apt-get answer does.
  host.execHandlers.unshift(host.execHandlers.pop() as (typeof host.execHandlers)[number]);
  const [outcome] = await applyAll([updateToolsConcern], context);
  assert.equal(outcome?.error, undefined);
  const debconf = host.execCalls.findIndex((call) => call.file === 'debconf-set-selections');
  const install = host.execCalls.findIndex((call) => call.file === 'apt-get' && call.args.includes('install'));
  assert.ok(debconf >= 0 && debconf < install, 'debconf is answered before the package is installed');
  assert.deepEqual((await planAll([updateToolsConcern], context))[0]?.actions, []);
});

test('dnf gets dnf-plugins-core; zypper needs nothing; UPDATES_CHECK_INTERVAL=off installs nothing', async () => {
  const dnf = await contextFor(fakeHostFor('amzn-2023'));
  assert.deepEqual(
    (await planAll([updateToolsConcern], dnf))[0]?.actions.map((action) => action.summary),
    ['install dnf-plugins-core (the updates job runs dnf needs-restarting)'],
  );
  const zypper = await contextFor(fakeHostFor('sles-15.5'));
  assert.deepEqual((await planAll([updateToolsConcern], zypper))[0]?.actions, []);
  const off = await contextFor(debian(), { UPDATES_CHECK_INTERVAL: 'off' });
  assert.deepEqual(await planAll([updateToolsConcern], off), []);
});
