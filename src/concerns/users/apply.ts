import { execOptions, runCommand } from '../../core/command.ts';
import type { ConcernContext } from '../../core/concern.ts';
import { AgentError, CommandError } from '../../core/errors.ts';
import { performSteps, type Step } from '../../core/step.ts';
import type { Host } from '../../host/host.ts';
import { isComplete, readAccounts } from './accounts.ts';
import { type Deletion, noPassword, type UsersAction } from './plan.ts';
import { endSessions } from './sessions.ts';
import { USERS } from './settings.ts';
import { writeSshdDropIn } from './sshd.ts';
import { stateEdit } from './state.ts';

/** userdel's exit status while the user has processes. */
const USERDEL_BUSY = 8;
/** userdel's exit status when the account is gone but its home could not be removed. */
const USERDEL_HOME_LEFT = 12;

type CreateAccounts = Extract<UsersAction, { kind: 'create-accounts' }>;

/**
 * The only place the users concern changes the system: the action's steps. `failed`: users whose earlier step in
 * this sync failed or was skipped; a step covering several users leaves them out.
 */
export async function applyUsers(
  action: UsersAction,
  context: ConcernContext,
  failed: ReadonlySet<string> = new Set(),
): Promise<void> {
  const { host } = context;
  switch (action.kind) {
    case 'end-sessions':
      return endSessions(host, context.logger, action);
    case 'delete-user':
      return deleteUser(host, action.user, action);
    case 'write-sshd-config':
      return writeSshdDropIn(host, context.logger, action);
    case 'write-sudoers':
      return writeSudoers(host, action.steps);
    case 'set-passwords': {
      const left = action.users.filter((name) => !failed.has(name));
      if (left.length === 0) return;
      return performSteps(host, left.length === action.users.length ? action.steps : [{ run: noPassword(left) }]);
    }
    case 'record-state': {
      const created = action.change.created ?? [];
      const left = created.filter((name) => !failed.has(name));
      const steps = left.length === created.length ? action.steps : [stateEdit({ ...action.change, created: left })];
      return performSteps(host, steps);
    }
    case 'create-accounts':
      return createAccounts(host, action);
    default:
      return performSteps(host, action.steps);
  }
}

/**
 * newusers creates every account in one run (one rewrite of each database, instead of one per useradd). Builds
 * with PAM (Debian, Ubuntu, Amazon Linux, SUSE) then set each password through PAM: with the empty password given
 * that fails at once and newusers exits 1 although the accounts were written, so the result is checked by reading
 * the accounts back rather than by the exit status.
 */
async function createAccounts(host: Host, action: CreateAccounts): Promise<void> {
  const { file, args } = action.newusers;
  const result = await host.exec(file, args, execOptions(action.newusers));
  const written = await readAccounts(host);
  // Written with the uid asked for, in every database: a newusers killed between two of them left less.
  const missing = action.accounts.filter(({ name, uid, gid }) => {
    const account = written.users.get(name);
    return account?.uid !== uid || account.gid !== gid || !isComplete(account, written);
  });
  if (missing.length > 0) {
    const names = missing.map((account) => account.name).join(', ');
    const said = result.stderr
      .split('\n')
      .filter((line) => !/password not changed|Authentication token/.test(line))
      .join('\n');
    throw new CommandError(['newusers'], result.exitCode, said, {
      reason: `did not create ${names} (exit status ${result.exitCode})`,
    });
  }
  await runCommand(host, action.chpasswd);
}

/** A user who still has processes (userdel exits 8) stays locked, and the next sync tries again. */
async function deleteUser(host: Host, user: string, deletion: Deletion): Promise<void> {
  if (deletion.retire) await performSteps(host, [deletion.retire]);
  const { file, args } = deletion.userdel;
  const result = await host.exec(file, args, execOptions(deletion.userdel));
  if (result.exitCode === USERDEL_BUSY) {
    const why = (result.stderr || result.stdout).trim();
    throw new AgentError(
      `userdel ${user}: ${why}; the account stays locked and its deletion is tried again at the next sync`,
    );
  }
  if (result.exitCode !== 0 && result.exitCode !== USERDEL_HOME_LEFT)
    throw new CommandError([file, ...args], result.exitCode, result.stderr || result.stdout);
  if (deletion.forget) await performSteps(host, [deletion.forget]);
  if (result.exitCode === USERDEL_HOME_LEFT)
    throw new AgentError(`userdel deleted ${user} but left its home: ${result.stderr.trim()}`);
}

/** The steps write, check and rename; the unchecked file is removed whatever happens (sudo skips its name anyway). */
async function writeSudoers(host: Host, steps: readonly Step[]): Promise<void> {
  try {
    await performSteps(host, steps);
  } finally {
    await host.rm(USERS.sudoersTemp);
  }
}
