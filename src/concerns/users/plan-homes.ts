import { type NoFollowWrite, type Step, type WriteStep, writeStep } from '../../core/step.ts';
import type { DesiredUser } from './document.ts';
import type { UsersFacts } from './facts.ts';
import type { ExistingHome, SkelFile } from './homes.ts';
import { KEYS_FILE_HEADER, USERS } from './settings.ts';
import { shownKeyLine } from './ssh-key.ts';

/** The files of the users' homes, as steps: homes set up for new accounts, keys written and removed. */

/**
 * What useradd would have done after writing the account, and what a killed creation may have left undone: the
 * home made and owned by the user, the files of /etc/skel (an existing one rewritten only while it is not what
 * skel holds, which after a crash may be a file left empty), and the keys. Written without an fsync each: the
 * flush-homes step makes them durable before the state says they exist. A home newusers makes in this sync holds
 * nothing and nobody has its keys yet: its files are created in place.
 */
export function homeSteps(facts: UsersFacts, user: DesiredUser, ids: { uid: number; gid: number }): Step[] {
  const home = `${USERS.homeBase}/${user.name}`;
  const existing = facts.existingHomes.get(user.name);
  const keys = keysText(user.keys);
  const into = { below: home, uid: ids.uid, gid: ids.gid, durable: false };
  const skel = facts.skel.filter((file) => !existing?.unchangedSkel.has(file.path));
  const keysFile = keys === null ? [] : [keysWrite(into, keys, existing?.keys ?? null, existing === undefined)];
  return [
    ...homeDirectory(facts, user.name, ids, existing),
    ...skel.map((file) => skelWrite(into, file, existing === undefined)),
    ...keysFile,
  ];
}

/** A home a killed creation left: made when missing, given to the user when it is not theirs. */
function homeDirectory(
  facts: UsersFacts,
  name: string,
  ids: { uid: number; gid: number },
  existing: ExistingHome | undefined,
): Step[] {
  if (existing === undefined) return [];
  const { info } = existing;
  const home = `${USERS.homeBase}/${name}`;
  const mkdir: Step[] = info === null ? [{ mkdir: home, mode: facts.accounts.defs.homeMode }] : [];
  const owned = info !== null && info.uid === ids.uid && info.gid === ids.gid;
  if (owned || (info !== null && info.kind !== 'directory')) return mkdir;
  const args = ['--no-dereference', `${ids.uid}:${ids.gid}`, '--', `${facts.local.homes}/${name}`];
  return [...mkdir, { run: { file: 'chown', args, target: 'local' } }];
}

/** Into a user's home, as that user: the directories on the way each get the mode their file asks for. */
export type Into = Omit<NoFollowWrite, 'dirMode'>;

function skelWrite(into: Into, file: SkelFile, exclusive: boolean): WriteStep {
  return writeStep(`${into.below}/${file.path}`, file.text, {
    mode: file.mode,
    exclusive,
    noFollow: { ...into, dirMode: file.dirMode },
    holds: `the content of ${USERS.skel}/${file.path}`,
  });
}

/** ~/.ssh/authorized_keys, and ~/.ssh with the agent's mode and the user as owner. */
export function keysWrite(into: Into, text: string, before: string | null, exclusive: boolean): WriteStep {
  return writeStep(`${into.below}/${USERS.keysPath}`, text, {
    mode: USERS.keysFileMode,
    exclusive,
    noFollow: { ...into, dirMode: USERS.sshDirMode },
    before,
    show: shownKeyLine,
  });
}

/** authorized_keys, or a link planted there (never its target). */
export function keysRemoval(home: string): Step {
  return { remove: `${home}/${USERS.keysPath}`, what: 'file', noFollow: { below: home } };
}

/** The authorized_keys text for these keys, or null for none (no file). */
export function keysText(keys: readonly string[]): string | null {
  return keys.length === 0 ? null : `${KEYS_FILE_HEADER}${keys.map((key) => `${key}\n`).join('')}`;
}
