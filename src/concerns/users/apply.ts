import type { ConcernContext } from '../../core/concern.ts';
import { AgentError, CommandError } from '../../core/errors.ts';
import { execChecked, type FileInfo, type Host, UnsafePathError } from '../../host/host.ts';
import { isComplete, readAccounts } from './accounts.ts';
import { belowParent } from './homes.ts';
import { type NewAccount, NO_PASSWORD, type UsersAction } from './plan.ts';
import { endSessions } from './sessions.ts';
import { USERS } from './settings.ts';
import { writeSourceCache } from './source-cache.ts';
import { writeSshdDropIn } from './sshd.ts';
import { changeState } from './state.ts';

/** userdel's exit status while the user has processes. */
const USERDEL_BUSY = 8;
/** userdel's exit status when the account is gone but its home could not be removed. */
const USERDEL_HOME_LEFT = 12;

/**
 * The only place the users concern changes the system. `failed`: users whose earlier step in this sync failed or
 * was skipped; a step covering several users leaves them out.
 */
export async function applyUsers(
  action: UsersAction,
  context: ConcernContext,
  failed: ReadonlySet<string> = new Set(),
): Promise<void> {
  const { host } = context;
  switch (action.kind) {
    case 'lock-user':
      // The account first: from then on nobody logs in, whatever happens to the home.
      if (action.usermod) await execChecked(host, 'usermod', action.usermod);
      if (action.removeKeys) await host.removeNoFollow(...belowParent(action.home, USERS.keysPath));
      return;
    case 'end-sessions':
      return endSessions(host, context.logger, action.user, action.uid);
    case 'delete-user':
      return deleteUser(host, action.user, action.uid, action.retire, action.userdel);
    case 'create-group':
      return void (await execChecked(host, 'groupadd', ['--system', '--', action.group]));
    case 'write-sshd-config':
      return writeSshdDropIn(host, context.logger);
    case 'write-sudoers':
      return writeSudoers(host, action.text);
    case 'modify-user':
      return void (await execChecked(host, 'usermod', action.usermod));
    case 'set-passwords':
      return setNoPassword(
        host,
        action.users.filter((name) => !failed.has(name)),
      );
    case 'set-members':
      return void (await execChecked(host, 'gpasswd', action.gpasswd));
    case 'write-keys':
      return writeKeys(host, action.home, action.uid, action.gid, action.text);
    case 'remove-keys':
      return host.removeNoFollow(...belowParent(action.home, USERS.keysPath));
    case 'record-state':
      return changeState(host, {
        ...action.change,
        created: action.change.created?.filter((name) => !failed.has(name)),
      });
    case 'create-accounts':
      return createAccounts(host, action.accounts, action.newusers);
    case 'set-up-home':
      return setUpHome(host, action);
    case 'flush-homes':
      return void (await execChecked(host, 'sync', ['--file-system', '--', await host.localPath(USERS.homeBase)], {
        target: 'local',
      }));
    case 'record-source':
      return writeSourceCache(host, action.record);
  }
}

/**
 * newusers creates every account in one run (one rewrite of each database, instead of one per useradd). Builds
 * with PAM (Debian, Ubuntu, Amazon Linux, SUSE) then set each password through PAM: with the empty password given
 * that fails at once and newusers exits 1 although the accounts were written, so the result is checked by reading
 * the accounts back rather than by the exit status.
 */
async function createAccounts(host: Host, accounts: readonly NewAccount[], input: string): Promise<void> {
  const result = await host.exec('newusers', [], { input });
  const written = await readAccounts(host);
  // Written with the uid asked for, in every database: a newusers killed between two of them left less.
  const missing = accounts.filter(({ name, uid, gid }) => {
    const account = written.users.get(name);
    return account?.uid !== uid || account.gid !== gid || !isComplete(account, written);
  });
  if (missing.length > 0) {
    const names = missing.map((account) => account.name).join(', ');
    const said = result.stderr
      .split('\n')
      .filter((line) => !/password not changed|Authentication token/.test(line))
      .join('\n');
    throw new CommandError(
      ['newusers'],
      result.exitCode,
      said,
      { reason: `did not create ${names} (exit status ${result.exitCode})` },
    );
  }
  await setNoPassword(
    host,
    accounts.map((account) => account.name),
  );
}

/** chpasswd -e writes the field as given, without PAM: "*", no password, so only keys log in. */
async function setNoPassword(host: Host, users: readonly string[]): Promise<void> {
  if (users.length === 0) return;
  await execChecked(host, 'chpasswd', ['-e'], { input: users.map((name) => `${name}:${NO_PASSWORD}\n`).join('') });
}

/**
 * The uid is retired before userdel runs, so a kill between the two cannot free it. A user who still has
 * processes (userdel exits 8) stays locked, and the next sync tries again.
 */
async function deleteUser(
  host: Host,
  user: string,
  uid: number,
  retire: boolean,
  userdel: readonly string[],
): Promise<void> {
  if (retire) await changeState(host, { retireUids: [uid] });
  const result = await host.exec('userdel', userdel);
  if (result.exitCode === USERDEL_BUSY) {
    const why = (result.stderr || result.stdout).trim();
    throw new AgentError(
      `userdel ${user}: ${why}; the account stays locked and its deletion is tried again at the next sync`,
    );
  }
  if (result.exitCode !== 0 && result.exitCode !== USERDEL_HOME_LEFT)
    throw new CommandError(['userdel', ...userdel], result.exitCode, result.stderr || result.stdout);
  await changeState(host, retire ? { forget: [user] } : {});
  if (result.exitCode === USERDEL_HOME_LEFT)
    throw new AgentError(`userdel deleted ${user} but left its home: ${result.stderr.trim()}`);
}

/**
 * sudo reads every file in sudoers.d: a broken one would lock out sudo for everybody, so only a checked file is
 * renamed into place.
 */
async function writeSudoers(host: Host, text: string): Promise<void> {
  await host.mkdir('/etc/sudoers.d', { mode: 0o755 });
  await host.writeFileAtomic(USERS.sudoersTemp, text, { mode: 0o440, uid: 0, gid: 0 });
  try {
    const args = ['-cf', await host.localPath(USERS.sudoersTemp)];
    const check = await host.exec('visudo', args, { target: 'local' });
    if (check.exitCode !== 0)
      throw new CommandError(['visudo', ...args], check.exitCode, `${check.stdout}${check.stderr}`);
    await host.rename(USERS.sudoersTemp, USERS.sudoersFile);
  } finally {
    await host.rm(USERS.sudoersTemp);
  }
}

/**
 * Below the home, not its parent: writeFileNoFollow gives every directory on the way the mode asked for, and the
 * home keeps its own. The home itself is checked first (only root can swap a home directory for a link).
 */
async function writeKeys(host: Host, home: string, uid: number, gid: number, text: string): Promise<void> {
  await checkHome(host, home);
  await host.writeFileNoFollow(home, USERS.keysPath, text, {
    mode: USERS.keysFileMode,
    uid,
    gid,
    dirMode: USERS.sshDirMode,
  });
}

async function checkHome(host: Host, home: string): Promise<void> {
  const info = await host.lstat(home);
  if (info?.kind !== 'directory') throw unsafeHome(home, info);
}

function unsafeHome(home: string, info: FileInfo | null): UnsafePathError {
  const what = info === null ? 'does not exist' : info.kind === 'symlink' ? 'is a symbolic link' : 'is not a directory';
  return new UnsafePathError(`the home directory ${home} ${what}; refusing to write into it`);
}

type SetUpHome = Extract<UsersAction, { kind: 'set-up-home' }>;

/**
 * What useradd would have done after writing the account, and what a killed creation may have left undone: the
 * home made and owned by the user, the files of /etc/skel (never overwriting one the user changed: an existing
 * one is rewritten only while it is not what skel holds, which after a crash may be a file left empty), and the
 * keys. Written without an fsync each: a flush-homes step makes them durable before the state says they exist.
 */
async function setUpHome(host: Host, action: SetUpHome): Promise<void> {
  let info = await host.lstat(action.home);
  if (info === null) {
    await host.mkdir(action.home, { mode: action.homeMode });
    info = await host.lstat(action.home);
  }
  if (info?.kind !== 'directory') throw unsafeHome(action.home, info);
  if (info.uid !== action.uid || info.gid !== action.gid) {
    const args = ['--no-dereference', `${action.uid}:${action.gid}`, '--', await host.localPath(action.home)];
    await execChecked(host, 'chown', args, { target: 'local' });
  }
  // A home newusers just made holds nothing and nobody has its keys yet: files go straight in.
  const owner = { uid: action.uid, gid: action.gid, durable: false, exclusive: action.newHome };
  for (const file of action.skel) {
    if (!action.newHome && (await sameFile(host, action.home, file.path, file.data))) continue;
    await host.writeFileNoFollow(action.home, file.path, file.data, {
      ...owner,
      mode: file.mode,
      dirMode: file.dirMode,
    });
  }
  if (action.keys === null) return;
  const keysFile = { ...owner, mode: USERS.keysFileMode, dirMode: USERS.sshDirMode };
  await host.writeFileNoFollow(action.home, USERS.keysPath, action.keys, keysFile);
}

async function sameFile(host: Host, home: string, path: string, data: Uint8Array): Promise<boolean> {
  const file = await host.readFileNoFollow(home, path, data.length + 1);
  return file !== null && Buffer.from(file.data).equals(Buffer.from(data));
}
