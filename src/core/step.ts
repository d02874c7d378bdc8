import { posix } from 'node:path';

import { type Host, readTextIfExists, UnsafePathError } from '../host/host.ts';
import { type Command, commandLine, runCommand } from './command.ts';
import { encodeLossless, escapeControls, splitLines } from './config/text.ts';
import { AgentError } from './errors.ts';

/**
 * What an action does to the host, as data. `plan` prints each step (renderSteps) and apply performs exactly
 * these steps, so what an operator reads before apply is what runs. A value only an earlier step can tell (the
 * UUID of a filesystem mkfs makes) is shown as `<what it is>`, and filled in by the concern when it runs.
 */
export type Step =
  RunStep | InstallStep | WriteStep | EditStep | RemoveStep | RenameStep | MakeDirectoryStep | NoteStep;

export interface RunStep {
  readonly run: Command;
}

/** A package-manager transaction, which the package manager runs (lock wait, retries, no service started). */
export interface InstallStep {
  readonly install: readonly Command[];
}

/** A file replaced atomically with content, its directory made when missing. */
export interface WriteStep {
  readonly write: string;
  readonly mode?: number;
  /** The file must not exist yet: one that appeared since the plan is refused. */
  readonly exclusive?: boolean;
  /** Written into a tree another user controls (a home), as that user. */
  readonly noFollow?: NoFollowWrite;
  /** What plan prints: the lines removed (-) and added (+), secrets redacted; or one line saying what it holds. */
  readonly changes: readonly string[];
  /** Written byte for byte (see encodeLossless); never printed, not even by --json (it may hold credentials). */
  readonly content: string;
  toJSON(): Omit<WriteStep, 'content' | 'toJSON'>;
}

/**
 * A tree another user controls (a home directory): `below` must be a directory, not a link (only root can make
 * it one: its parent is root's), and no link below it is ever followed (Host.writeFileNoFollow, removeNoFollow).
 */
export interface NoFollow {
  readonly below: string;
}

export interface NoFollowWrite extends NoFollow {
  /** The file's owner, and that of the directories between `below` and the file, made or set to dirMode. */
  readonly uid: number;
  readonly gid: number;
  readonly dirMode: number;
  /** false: no fsync, for a batch of files a later step makes durable at once (`sync --file-system`). */
  readonly durable: boolean;
}

/** A file changed when the step runs, keeping what others wrote in it since the plan (fstab: two concerns edit it). */
export interface EditStep {
  readonly edit: string;
  /** Given to the file, made with its directory when missing; the file's own mode is kept otherwise. */
  readonly mode?: number;
  /** What plan prints: the lines removed (-) and added (+); for a file of records (JSON), the change to each. */
  readonly changes: readonly string[];
  /** The new text from the text the file has when the step runs ('' when there is none). */
  readonly change: (text: string) => string;
}

export type RemoveStep =
  | {
      readonly remove: string;
      /** 'tree': the path and everything below it; 'entries': everything in the directory, which stays. */
      readonly what: 'tree' | 'entries';
    }
  /** A file, or a link (never its target), in a tree another user controls; nothing there is fine. */
  | { readonly remove: string; readonly what: 'file'; readonly noFollow: NoFollow };

/** rename(2): a file put in place whole (after a check of the new one) or moved aside. */
export interface RenameStep {
  readonly rename: string;
  readonly to: string;
}

/** A directory and its missing parents; an existing one is left as it is. */
export interface MakeDirectoryStep {
  readonly mkdir: string;
  readonly mode: number;
}

/** What happens that is no command or file of its own: a check, a rollback, a value known only then. */
export interface NoteStep {
  readonly note: string;
}

export interface WriteOptions {
  readonly mode?: number;
  readonly exclusive?: boolean;
  readonly noFollow?: NoFollowWrite;
  /** The file's text as the plan read it, for the lines shown; null or absent when there is none. */
  readonly before?: string | null;
  /** How a line is shown (secrets redacted); control characters are escaped by default. */
  readonly show?: (line: string) => string;
  /** Printed instead of the lines: what the file holds (a copy of /etc/skel's, values not to be shown). */
  readonly holds?: string;
}

export function writeStep(path: string, content: string, options: WriteOptions = {}): WriteStep {
  const printable = {
    write: path,
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.exclusive ? { exclusive: true } : {}),
    ...(options.noFollow ? { noFollow: options.noFollow } : {}),
    changes:
      options.holds === undefined
        ? lineChanges(options.before ?? '', content, options.show ?? escapeControls)
        : [options.holds],
  };
  return { ...printable, content, toJSON: () => printable };
}

/** An edit that replaces the lines `removes` with `adds` as `change` does it, shown as those lines. */
export function editStep(
  path: string,
  change: (text: string) => string,
  removes: readonly string[],
  adds: readonly string[],
): EditStep {
  const shown = (sign: string) => (line: string) => `${sign} ${escapeControls(line)}`;
  return { edit: path, change, changes: [...removes.map(shown('-')), ...adds.map(shown('+'))] };
}

/** The lines plan prints for a step. */
function renderStep(step: Step): string[] {
  if ('run' in step) return runLines(step.run);
  if ('install' in step) return step.install.map(commandLine);
  if ('write' in step) return [writeHeading(step), ...step.changes.map((line) => `  ${line}`)];
  if ('edit' in step) return [`edit ${step.edit}${modeOf(step)}`, ...step.changes.map((line) => `  ${line}`)];
  if ('remove' in step) return [removal(step)];
  if ('rename' in step) return [`mv -- ${step.rename} ${step.to}`];
  if ('mkdir' in step) return [`mkdir -m ${octal(step.mode)} -- ${step.mkdir}`];
  return [step.note];
}

/** A command whose input has several lines reads them from a here-document, one line each. */
function runLines(command: Command): string[] {
  const lines = splitLines(command.input ?? '');
  if (lines.length < 2 || !command.input?.endsWith('\n') || lines.includes('EOF')) return [commandLine(command)];
  return [`${commandLine({ ...command, input: undefined })} <<'EOF'`, ...lines.map(escapeControls), 'EOF'];
}

export function renderSteps(steps: readonly Step[]): string[] {
  return steps.flatMap(renderStep);
}

function writeHeading(step: WriteStep): string {
  const how = [...(step.mode === undefined ? [] : [`mode ${octal(step.mode)}`]), ...noFollowWrite(step)];
  const details = how.length > 0 ? ` (${how.join(', ')})` : '';
  const verb = step.exclusive ? 'create' : 'write';
  return `${verb} ${shownPath(step.write, step.noFollow)}${details}${step.content === '' ? ', empty' : ''}`;
}

/** A path in a user's tree names where following links stops: "in /home/alice, no link followed: .ssh/…". */
function shownPath(path: string, noFollow: NoFollow | undefined): string {
  return noFollow ? `in ${noFollow.below}, no link followed: ${relativeTo(noFollow.below, path)}` : path;
}

function modeOf(step: { readonly mode?: number }): string {
  return step.mode === undefined ? '' : ` (mode ${octal(step.mode)})`;
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

/** How a write into a user's tree is made: as whom, the directories on the way, synced or not. */
function noFollowWrite(step: WriteStep): string[] {
  if (step.noFollow === undefined) return [];
  const { uid, gid, dirMode, durable, below } = step.noFollow;
  const directories = posix.dirname(relativeTo(below, step.write));
  return [
    `owner ${uid}:${gid}`,
    ...(directories === '.' ? [] : [`${directories} ${octal(dirMode)}`]),
    ...(durable ? [] : ['no fsync']),
  ];
}

function removal(step: RemoveStep): string {
  if (step.what === 'file') return `remove ${shownPath(step.remove, step.noFollow)}`;
  return step.what === 'tree' ? `rm -r -- ${step.remove}` : `remove every entry of ${step.remove}`;
}

/** Runs install steps: the package manager (PackageManager.run). */
export interface Installer {
  run(commands: readonly Command[]): Promise<void>;
}

/** Performs the steps in order; the first that fails stops the rest. `installer` runs install steps. */
export async function performSteps(host: Host, steps: readonly Step[], installer?: Installer): Promise<void> {
  for (const step of steps) await perform(host, step, installer);
}

async function perform(host: Host, step: Step, installer: Installer | undefined): Promise<void> {
  if ('run' in step) await runCommand(host, step.run);
  else if ('install' in step) await installWith(installer, step.install);
  else if ('write' in step) await write(host, step);
  else if ('edit' in step) await edit(host, step);
  else if ('remove' in step) await remove(host, step);
  else if ('rename' in step) await host.rename(step.rename, step.to);
  else if ('mkdir' in step) await host.mkdir(step.mkdir, { mode: step.mode });
}

function installWith(installer: Installer | undefined, commands: readonly Command[]): Promise<void> {
  if (installer === undefined) throw new Error('an install step needs the package manager to run it');
  return installer.run(commands);
}

async function write(host: Host, step: WriteStep): Promise<void> {
  if (step.noFollow !== undefined) return writeNoFollow(host, step, step.noFollow);
  if (step.exclusive && (await host.lstat(step.write)) !== null) {
    throw new AgentError(`${step.write} appeared since the plan; not touching it, plan again`);
  }
  await host.mkdir(posix.dirname(step.write));
  const options = step.mode === undefined ? {} : { mode: step.mode };
  await host.writeFileAtomic(step.write, encodeLossless(step.content), options);
}

async function writeNoFollow(host: Host, step: WriteStep, noFollow: NoFollowWrite): Promise<void> {
  const { below, uid, gid, dirMode, durable } = noFollow;
  await checkBelow(host, below, 'written');
  const options = { mode: step.mode ?? 0o644, uid, gid, dirMode, durable, exclusive: step.exclusive === true };
  await host.writeFileNoFollow(below, relativeTo(below, step.write), encodeLossless(step.content), options);
}

/** `below` itself is resolved as usual by the Host: it must be a directory, never a link. */
async function checkBelow(host: Host, below: string, doing: 'written' | 'removed'): Promise<void> {
  const info = await host.lstat(below);
  if (info?.kind === 'directory') return;
  const what = info === null ? 'does not exist' : info.kind === 'symlink' ? 'is a symbolic link' : 'is not a directory';
  throw new UnsafePathError(`${below} ${what}; nothing below it is ${doing}`);
}

function relativeTo(below: string, path: string): string {
  const relative = posix.relative(below, path);
  if (relative === '' || relative.startsWith('..')) throw new Error(`${path} is not below ${below}`);
  return relative;
}

async function edit(host: Host, step: EditStep): Promise<void> {
  const text = (await readTextIfExists(host, step.edit)) ?? '';
  if (step.mode === undefined) return host.writeFileAtomic(step.edit, step.change(text));
  await host.mkdir(posix.dirname(step.edit));
  await host.writeFileAtomic(step.edit, step.change(text), { mode: step.mode });
}

async function remove(host: Host, step: RemoveStep): Promise<void> {
  if (step.what === 'file') {
    await checkBelow(host, step.noFollow.below, 'removed');
    return host.removeNoFollow(step.noFollow.below, relativeTo(step.noFollow.below, step.remove));
  }
  if (step.what === 'tree') return host.rm(step.remove, { recursive: true });
  for (const entry of await host.readdir(step.remove)) await host.rm(`${step.remove}/${entry}`, { recursive: true });
}

/** Lines removed and added, each line shown as `show` renders it, counting repeats. */
function lineChanges(before: string, after: string, show: (line: string) => string): string[] {
  const [old, next] = [splitLines(before), splitLines(after)];
  const removed = missingFrom(next, old).map((line) => `- ${show(line)}`);
  return [...removed, ...missingFrom(old, next).map((line) => `+ ${show(line)}`)];
}

/** The lines of `lines` that `others` lacks, counting repeats. */
function missingFrom(others: readonly string[], lines: readonly string[]): string[] {
  const pool = [...others];
  return lines.filter((line) => {
    const index = pool.indexOf(line);
    if (index >= 0) pool.splice(index, 1);
    return index < 0;
  });
}
