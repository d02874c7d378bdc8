/**
 * The README's generated sections, rendered from the code so that they cannot drift from it: the table of
 * contents, the commands (their synopses, each shown once, are what `--help` prints) and the configuration keys
 * (from KEYS, with the flags that set them and the secret mark of the one redaction rule). Each sits between
 * `<!-- generated:NAME ARGS -->` and `<!-- /generated:NAME -->`; everything outside the markers is left as written.
 *
 *   npm run docs     rewrites README.md's generated sections
 *
 * test/unit/docs/readme-tables.test.ts fails, naming the stale sections, when README.md and the code differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { type Command, COMMON_CONFIG_FLAGS, COMMON_USAGE, type ConfigFlag, synopsis } from '../src/cli/command.ts';
import { OPERATOR_COMMANDS } from '../src/cli/commands.ts';
import { KEYS, type KeySpec } from '../src/core/config/keys.ts';
import { isSecretKey, REDACTED } from '../src/core/config/secrets.ts';

export const README = new URL('../README.md', import.meta.url);

const MARKER = /<!-- generated:([a-z]+)((?: [\w-]+)*) -->\n([\s\S]*?)<!-- \/generated:([a-z]+) -->/g;

/** One generated section as found in a text: its name, arguments, what it holds now and the name closing it. */
interface Section {
  readonly name: string;
  readonly args: readonly string[];
  readonly text: string;
  readonly closing: string;
}

type Renderer = (args: readonly string[], document: string) => string;

const RENDERERS: Readonly<Record<string, Renderer>> = {
  contents: (_args, document) => contents(document),
  commands: () => commandsSection(OPERATOR_COMMANDS),
  keys: () => keyTable(KEYS, configFlagsByKey(OPERATOR_COMMANDS)),
};

/** The document with every generated section rendered afresh from the code. */
export function renderSections(document: string): string {
  return document.replace(MARKER, (...match: string[]) => {
    const section = sectionOf(match);
    return `${openingMarker(section)}\n${render(section, document)}\n<!-- /generated:${section.name} -->`;
  });
}

/** The generated sections whose text differs from what the code renders, as `NAME ARGS`. */
export function staleSections(document: string): string[] {
  return sectionsOf(document)
    .filter((section) => section.text !== `${render(section, document)}\n`)
    .map((section) => [section.name, ...section.args].join(' '));
}

export function sectionsOf(document: string): Section[] {
  return [...document.matchAll(MARKER)].map(sectionOf);
}

function sectionOf([, name, args, text, closing]: readonly (string | undefined)[]): Section {
  const words = (args ?? '').trim();
  return { name: name ?? '', args: words ? words.split(' ') : [], text: text ?? '', closing: closing ?? '' };
}

function openingMarker(section: Section): string {
  return `<!-- generated:${[section.name, ...section.args].join(' ')} -->`;
}

function render(section: Section, document: string): string {
  if (section.closing !== section.name) {
    throw new Error(`<!-- generated:${section.name} --> is closed by <!-- /generated:${section.closing} -->`);
  }
  const renderer = RENDERERS[section.name];
  if (!renderer) {
    throw new Error(`unknown generated section ${section.name}; known: ${Object.keys(RENDERERS).join(', ')}`);
  }
  return renderer(section.args, document);
}

/** The `##` headings outside code blocks, linked by GitHub's anchors. */
function contents(document: string): string {
  return headings(document, 2)
    .filter((heading) => heading !== 'Contents')
    .map((heading) => `- [${heading}](#${anchorOf(heading)})`)
    .join('\n');
}

export function headings(document: string, level?: number): string[] {
  let fenced = false;
  const found: string[] = [];
  for (const line of document.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading && !fenced && (level === undefined || heading[1]?.length === level)) found.push(heading[2] as string);
  }
  return found;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replaceAll(' ', '-');
}

function usageBlock(commands: readonly Command[]): string {
  return ['```', ...commands.flatMap(synopsis), '```'].join('\n');
}

/** What each command does, every form of it, and the options all of them take: as `--help` prints them. */
export function commandsSection(commands: readonly Command[]): string {
  const rows = commands.map((command) => `| \`${command.name}\` | ${cell(command.summary)} |`);
  const table = ['| command | what it does |', '|---|---|', ...rows].join('\n');
  return `${table}\n\n${usageBlock(commands)}\n\n\`\`\`\n${COMMON_USAGE}\n\`\`\``;
}

/**
 * The flags that set each key, as Markdown: a common option alone (`--log-level`), a command's flag with the
 * commands that take it (`--timeout` (drain)), since one flag name may set different keys in different commands.
 */
export function configFlagsByKey(commands: readonly Command[]): ReadonlyMap<string, readonly string[]> {
  const byKey = new Map<string, Map<string, string[]>>();
  const add = (flags: Readonly<Record<string, ConfigFlag>> | undefined, command?: string) => {
    for (const [flag, target] of Object.entries(flags ?? {})) {
      const key = typeof target === 'string' ? target : target.key;
      const flagsOfKey = byKey.get(key) ?? new Map<string, string[]>();
      flagsOfKey.set(flag, [...(flagsOfKey.get(flag) ?? []), ...(command ? [command] : [])]);
      byKey.set(key, flagsOfKey);
    }
  };
  add(COMMON_CONFIG_FLAGS);
  for (const command of commands) add(command.configFlags, command.name);
  return new Map(
    [...byKey].map(([key, flags]) => [
      key,
      [...flags].map(([flag, names]) => `\`--${flag}\`${names.length ? ` (${names.join(', ')})` : ''}`),
    ]),
  );
}

/** Every key with its default, what it means, the flags that set it, and whether its value is a secret. */
export function keyTable(
  keys: Readonly<Record<string, KeySpec<unknown>>>,
  flags: ReadonlyMap<string, readonly string[]>,
): string {
  const rows = Object.entries(keys).map(([name, spec]) => {
    const byFlag = flags.get(name)?.join(', ');
    const secret = isSecretKey(name) ? ` **Secret**: shown as \`${REDACTED}\`.` : '';
    const shownDefault = spec.default === '' ? '(empty)' : `\`${spec.default}\``;
    return `| \`${name}\` | ${shownDefault} | ${cell(spec.description)}${secret} |${byFlag ? ` ${byFlag} ` : ' '}|`;
  });
  return ['| key | default | meaning | flag |', '|---|---|---|---|', ...rows].join('\n');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

if (import.meta.main) {
  const before = readFileSync(README, 'utf8');
  const after = renderSections(before);
  if (after !== before) writeFileSync(README, after);
  const news = after === before ? 'is up to date' : `: rewrote ${staleSections(before).join('; ')}`;
  process.stdout.write(`README.md ${news}\n`);
}
