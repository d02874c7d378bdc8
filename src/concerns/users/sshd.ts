import { posix } from 'node:path';

import { AgentError, messageOf } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { execChecked, type Host, readTextIfExists } from '../../host/host.ts';
import { SSHD_DROP_IN_TEXT, USERS } from './settings.ts';

/**
 * sshd's side of "the source is the only way in": the drop-in that limits managed users to
 * ~/.ssh/authorized_keys (SSHD_DROP_IN_TEXT), and what would keep sshd from honouring it.
 */
export interface SshdFacts {
  /** The drop-in as it is, or null when absent. */
  readonly dropIn: string | null;
  /** Why sshd would not apply the drop-in as written, one sentence each; reported on every sync. */
  readonly problems: readonly string[];
}

export async function gatherSshd(host: Host): Promise<SshdFacts> {
  const dropIn = await readTextIfExists(host, USERS.sshdDropIn);
  const problems: string[] = [];
  for (const path of USERS.sshdConfigs) {
    const text = await readTextIfExists(host, path);
    if (text === null) continue;
    if (!includesDropIns(text)) {
      problems.push(
        `${path} does not Include ${USERS.sshdDropInDirectory}/*.conf before its first Match block, so sshd ignores ` +
          `${USERS.sshdDropIn} and may accept keys of managed users from other files (Debian's default also reads ` +
          `~/.ssh/authorized_keys2); add "Include ${USERS.sshdDropInDirectory}/*.conf" at its top`,
      );
    }
    break;
  }
  problems.push(...(await earlierMatchBlocks(host)));
  return { dropIn, problems };
}

/** sshd keeps the first value a matching Match block gives: a drop-in sorting before the agent's could override it. */
async function earlierMatchBlocks(host: Host): Promise<string[]> {
  if ((await host.lstat(USERS.sshdDropInDirectory))?.kind !== 'directory') return [];
  const ours = posix.basename(USERS.sshdDropIn);
  const earlier = (await host.readdir(USERS.sshdDropInDirectory)).filter(
    (name) => name.endsWith('.conf') && name < ours,
  );
  const problems: string[] = [];
  for (const name of earlier) {
    const text = await readTextIfExists(host, `${USERS.sshdDropInDirectory}/${name}`);
    if (text !== null && directives(text).some(([keyword]) => keyword === 'match')) {
      problems.push(
        `${USERS.sshdDropInDirectory}/${name} sorts before ${ours} and has a Match block: ` +
          "for the users it matches, its settings win over the agent's",
      );
    }
  }
  return problems;
}

/** [lower-case keyword, arguments] of each line that is not a comment. */
function directives(text: string): [string, string[]][] {
  return text.split('\n').flatMap((line) => {
    const words = line
      .trim()
      .split(/[\s=]+/)
      .filter(Boolean);
    const [keyword, ...args] = words;
    return keyword === undefined || keyword.startsWith('#') ? [] : [[keyword.toLowerCase(), args.map(unquote)]];
  });
}

function unquote(word: string): string {
  return word.replace(/^"(.*)"$/, '$1');
}

/** An Include whose pattern covers the drop-in, before any Match (an Include inside a Match is conditional). */
export function includesDropIns(text: string): boolean {
  for (const [keyword, args] of directives(text)) {
    if (keyword === 'match') return false;
    if (
      keyword === 'include' &&
      args.some((pattern) => globMatches(posix.resolve('/etc/ssh', pattern), USERS.sshdDropIn))
    )
      return true;
  }
  return false;
}

function globMatches(pattern: string, path: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replaceAll('*', '[^/]*')
    .replaceAll('?', '[^/]');
  return new RegExp(`^${regex}$`).test(path);
}

/**
 * Writes the drop-in. On this machine, with sshd installed, `sshd -t` checks the whole configuration before and
 * after: a drop-in that makes a valid configuration invalid is taken back (sshd would not start again). A running
 * sshd is then reloaded through its unit, since it reads its configuration only at start and on reload.
 */
export async function writeSshdDropIn(host: Host, logger: Logger): Promise<void> {
  const checked = host.root === '/' && (await host.stat(USERS.sshd)) !== null;
  const before = checked ? await sshdTest(host) : null;
  const previous = await readTextIfExists(host, USERS.sshdDropIn);
  await host.mkdir(USERS.sshdDropInDirectory, { mode: 0o755 });
  await host.writeFileAtomic(USERS.sshdDropIn, SSHD_DROP_IN_TEXT, { mode: 0o644, uid: 0, gid: 0 });
  if (checked) {
    const after = await sshdTest(host);
    if (after !== null && before === null) {
      await (previous === null ? host.rm(USERS.sshdDropIn) : host.writeFileAtomic(USERS.sshdDropIn, previous));
      throw new AgentError(
        `sshd -t rejects the configuration with ${USERS.sshdDropIn}, so it was taken back: ${after}`,
      );
    }
    if (after !== null) logger.warn(`users: sshd -t fails with and without ${USERS.sshdDropIn}: ${after}`);
  }
  if (host.root === '/') await reloadSshd(host, logger);
}

/** null when sshd accepts its configuration, else what it said. */
async function sshdTest(host: Host): Promise<string | null> {
  const result = await host.exec(USERS.sshd, ['-t']);
  return result.exitCode === 0 ? null : (result.stderr || result.stdout).trim() || `exit status ${result.exitCode}`;
}

async function reloadSshd(host: Host, logger: Logger): Promise<void> {
  for (const unit of USERS.sshdUnits) {
    let active: boolean;
    try {
      active = (await host.exec('systemctl', ['is-active', '--quiet', '--', unit])).exitCode === 0;
    } catch (error) {
      logger.debug(`users: systemctl is-active ${unit}: ${messageOf(error)}`);
      active = false;
    }
    if (!active) continue;
    await execChecked(host, 'systemctl', ['reload', '--', unit]);
    return;
  }
  logger.info(
    `users: sshd does not run as ${USERS.sshdUnits.join(' or ')}: it reads ${USERS.sshdDropIn} when it starts`,
  );
}
