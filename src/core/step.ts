import { posix } from 'node:path';

import { type Host, readTextIfExists } from '../host/host.ts';
import { type Command, commandLine, runCommand } from './command.ts';
import { encodeLossless, escapeControls, splitLines } from './config/text.ts';
import { AgentError } from './errors.ts';

/**
 * What an action does to the host, as data. `plan` prints each step (renderSteps) and apply performs exactly
 * these steps, so what an operator reads before apply is what runs. A value only an earlier step can tell (the
 * UUID of a filesystem mkfs makes) is shown as `<what it is>`, and filled in by the concern when it runs.
 */
export type Step = RunStep | InstallStep | WriteStep | EditStep | RemoveStep | NoteStep;

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
  /** What plan prints: the lines removed (-) and added (+), secrets redacted. */
  readonly changes: readonly string[];
  /** Written byte for byte (see encodeLossless); never printed, not even by --json (it may hold credentials). */
  readonly content: string;
  toJSON(): Omit<WriteStep, 'content' | 'toJSON'>;
}

/** A file changed when the step runs, keeping what others wrote in it since the plan (fstab: two concerns edit it). */
export interface EditStep {
  readonly edit: string;
  /** What plan prints: the lines removed (-) and added (+). */
  readonly changes: readonly string[];
  /** The new text from the text the file has when the step runs ('' when there is none). */
  readonly change: (text: string) => string;
}

export interface RemoveStep {
  readonly remove: string;
  /** 'tree': the path and everything below it; 'entries': everything in the directory, which stays. */
  readonly what: 'tree' | 'entries';
}

/** What happens that is no command or file of its own: a check, a rollback, a value known only then. */
export interface NoteStep {
  readonly note: string;
}

export interface WriteOptions {
  readonly mode?: number;
  readonly exclusive?: boolean;
  /** The file's text as the plan read it, for the lines shown; null or absent when there is none. */
  readonly before?: string | null;
  /** How a line is shown (secrets redacted); control characters are escaped by default. */
  readonly show?: (line: string) => string;
}

export function writeStep(path: string, content: string, options: WriteOptions = {}): WriteStep {
  const printable = {
    write: path,
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.exclusive ? { exclusive: true } : {}),
    changes: lineChanges(options.before ?? '', content, options.show ?? escapeControls),
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
  if ('run' in step) return [commandLine(step.run)];
  if ('install' in step) return step.install.map(commandLine);
  if ('write' in step) return [writeHeading(step), ...step.changes.map((line) => `  ${line}`)];
  if ('edit' in step) return [`edit ${step.edit}`, ...step.changes.map((line) => `  ${line}`)];
  if ('remove' in step) return [removal(step)];
  return [step.note];
}

export function renderSteps(steps: readonly Step[]): string[] {
  return steps.flatMap(renderStep);
}

function writeHeading(step: WriteStep): string {
  const mode = step.mode === undefined ? '' : ` (mode 0${step.mode.toString(8)})`;
  return `write ${step.write}${mode}${step.content === '' ? ', empty' : ''}`;
}

function removal(step: RemoveStep): string {
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
}

function installWith(installer: Installer | undefined, commands: readonly Command[]): Promise<void> {
  if (installer === undefined) throw new Error('an install step needs the package manager to run it');
  return installer.run(commands);
}

async function write(host: Host, step: WriteStep): Promise<void> {
  if (step.exclusive && (await host.lstat(step.write)) !== null) {
    throw new AgentError(`${step.write} appeared since the plan; not touching it, plan again`);
  }
  await host.mkdir(posix.dirname(step.write));
  const options = step.mode === undefined ? {} : { mode: step.mode };
  await host.writeFileAtomic(step.write, encodeLossless(step.content), options);
}

async function edit(host: Host, step: EditStep): Promise<void> {
  const text = (await readTextIfExists(host, step.edit)) ?? '';
  await host.writeFileAtomic(step.edit, step.change(text));
}

async function remove(host: Host, step: RemoveStep): Promise<void> {
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
