import { posix } from 'node:path';

import { type Command, runCommand } from '../../core/command.ts';
import { AgentError, messageOf } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { performSteps, type Step, type WriteStep, writeStep } from '../../core/step.ts';
import { type Host, readTextIfExists } from '../../host/host.ts';
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
  /** Only when the drop-in is to be written: whether sshd -t can check it, and the unit to reload. */
  readonly writing: SshdWriting | null;
}

export interface SshdWriting {
  /** --root: no sshd runs there; it reads the drop-in when the image boots. */
  readonly imageRoot: boolean;
  /** sshd is installed on this machine (not an image root): `sshd -t` checks the configuration. */
  readonly checked: boolean;
  /** The sshd unit that runs, to reload; null when none does (or in an image root). */
  readonly runningUnit: string | null;
}

export async function gatherSshd(host: Host, logger: Logger): Promise<SshdFacts> {
  const dropIn = await readTextIfExists(host, USERS.sshdDropIn);
  const writing = dropIn === SSHD_DROP_IN_TEXT ? null : await gatherWriting(host, logger);
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
  return { dropIn, problems, writing };
}

async function gatherWriting(host: Host, logger: Logger): Promise<SshdWriting> {
  if (host.root !== '/') return { imageRoot: true, checked: false, runningUnit: null };
  const checked = (await host.stat(USERS.sshd)) !== null;
  return { imageRoot: false, checked, runningUnit: await runningUnit(host, logger) };
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

/** `sshd -t`: the whole configuration checked, the drop-in included. */
export const SSHD_CHECK: Command = { file: USERS.sshd, args: ['-t'] };

/**
 * Writes the drop-in. On this machine, with sshd installed, `sshd -t` checks the whole configuration before and
 * after: a drop-in that makes a valid configuration invalid is taken back (sshd would not start again). A running
 * sshd is then reloaded through its unit, since it reads its configuration only at start and on reload.
 */
export async function writeSshdDropIn(host: Host, logger: Logger, action: SshdAction): Promise<void> {
  const before = action.checked ? await sshdTest(host) : null;
  const previous = await readTextIfExists(host, USERS.sshdDropIn);
  await performSteps(host, [action.write]);
  if (action.checked) {
    const after = await sshdTest(host);
    if (after !== null && before === null) {
      await (previous === null ? host.rm(USERS.sshdDropIn) : host.writeFileAtomic(USERS.sshdDropIn, previous));
      throw new AgentError(
        `sshd -t rejects the configuration with ${USERS.sshdDropIn}, so it was taken back: ${after}`,
      );
    }
    if (after !== null) logger.warn(`users: sshd -t fails with and without ${USERS.sshdDropIn}: ${after}`);
  }
  if (action.reload !== null) await runCommand(host, action.reload);
}

/** What writeSshdDropIn runs: the write, checked when sshd is here, and the reload of the unit that runs it. */
export interface SshdAction {
  readonly write: WriteStep;
  readonly checked: boolean;
  readonly reload: Command | null;
}

/** The drop-in's write, or null when it is as the agent writes it; steps in the order writeSshdDropIn takes them. */
export function sshdDropInChange(sshd: SshdFacts): (SshdAction & { readonly steps: Step[] }) | null {
  if (sshd.writing === null) return null;
  const { checked, runningUnit, imageRoot } = sshd.writing;
  const write = writeStep(USERS.sshdDropIn, SSHD_DROP_IN_TEXT, { mode: 0o644, before: sshd.dropIn });
  const action = { write, checked, reload: runningUnit === null ? null : reloadCommand(runningUnit) };
  return { ...action, steps: sshdSteps(action, imageRoot) };
}

function sshdSteps(action: SshdAction, imageRoot: boolean): Step[] {
  const check: Step[] = action.checked ? [{ run: SSHD_CHECK }] : [];
  const takenBack = `taken back when sshd -t accepted the configuration without it and rejects it now`;
  const unread = imageRoot
    ? `sshd reads it when the image boots`
    : `sshd does not run as ${USERS.sshdUnits.join(' or ')}: it reads the drop-in when it starts`;
  return [
    ...check,
    action.write,
    ...(action.checked ? [...check, { note: takenBack }] : []),
    action.reload === null ? { note: unread } : { run: action.reload },
  ];
}

/** null when sshd accepts its configuration, else what it said. */
async function sshdTest(host: Host): Promise<string | null> {
  const result = await host.exec(SSHD_CHECK.file, SSHD_CHECK.args);
  return result.exitCode === 0 ? null : (result.stderr || result.stdout).trim() || `exit status ${result.exitCode}`;
}

async function runningUnit(host: Host, logger: Logger): Promise<string | null> {
  for (const unit of USERS.sshdUnits) {
    try {
      if ((await host.exec('systemctl', ['is-active', '--quiet', '--', unit])).exitCode === 0) return unit;
    } catch (error) {
      logger.debug(`users: systemctl is-active ${unit}: ${messageOf(error)}`);
    }
  }
  return null;
}

function reloadCommand(unit: string): Command {
  return { file: 'systemctl', args: ['reload', '--', unit] };
}
