import type { ConcernContext } from '../../core/concern.ts';
import { AgentError, CommandError } from '../../core/errors.ts';
import { execChecked, type Host } from '../../host/host.ts';
import { parsePasswd } from './accounts.ts';
import type { UsersAction } from './plan.ts';
import { USERS } from './settings.ts';
import { readState, writeState } from './state.ts';

/** The only place the users concern changes the system. */
export async function applyUsers(action: UsersAction, context: ConcernContext): Promise<void> {
  const { host } = context;
  switch (action.kind) {
    case 'create-group':
      return run(host, 'groupadd', ['--system', '--', action.group]);
    case 'write-sudoers':
      return writeSudoers(host, action.text);
    case 'record-state':
      return writeState(host, action.users);
    case 'create-user':
      await host.mkdir(USERS.homeBase);
      await run(host, 'useradd', action.useradd);
      if (action.keys !== null) await writeNewUserKeys(host, action.user, action.keys);
      return;
    case 'modify-user':
      return run(host, 'usermod', action.usermod);
    case 'write-keys':
      return writeKeys(host, action.home, action.uid, action.gid, action.text);
    case 'remove-keys':
      return host.removeNoFollow(action.home, USERS.keysPath);
    case 'lock-user':
      // The account first: from then on nobody logs in, whatever happens to the home.
      if (action.usermod) await run(host, 'usermod', action.usermod);
      if (action.removeKeys) await host.removeNoFollow(action.home, USERS.keysPath);
      return;
    case 'delete-user':
      await run(host, 'userdel', action.userdel);
      await writeState(host, (await readState(host)).filter((name) => name !== action.user));
      return;
  }
}

async function run(host: Host, tool: string, args: readonly string[]): Promise<void> {
  await execChecked(host, tool, args);
}

/** sudo reads every file in sudoers.d: a broken one would lock out sudo for everybody, so only a checked file is renamed into place. */
async function writeSudoers(host: Host, text: string): Promise<void> {
  await host.mkdir('/etc/sudoers.d', { mode: 0o755 });
  await host.writeFileAtomic(USERS.sudoersTemp, text, { mode: 0o440, uid: 0, gid: 0 });
  try {
    const args = ['-cf', await host.localPath(USERS.sudoersTemp)];
    const check = await host.exec('visudo', args, { target: 'local' });
    if (check.exitCode !== 0) throw new CommandError(['visudo', ...args], check.exitCode, `${check.stdout}${check.stderr}`);
    await host.rename(USERS.sudoersTemp, USERS.sudoersFile);
  } finally {
    await host.rm(USERS.sudoersTemp);
  }
}

async function writeNewUserKeys(host: Host, name: string, text: string): Promise<void> {
  const account = parsePasswd(await host.readText('/etc/passwd')).get(name);
  if (!account) throw new AgentError(`useradd succeeded but ${name} is not in /etc/passwd`);
  await writeKeys(host, account.home, account.uid, account.gid, text);
}

function writeKeys(host: Host, home: string, uid: number, gid: number, text: string): Promise<void> {
  return host.writeFileNoFollow(home, USERS.keysPath, text, { mode: USERS.keysFileMode, uid, gid, dirMode: USERS.sshDirMode });
}
