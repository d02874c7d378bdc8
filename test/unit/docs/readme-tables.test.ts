/**
 * The README's generated sections (scripts/readme-tables.ts) are what the code renders, `--help` prints the
 * synopses the README shows, and every link of the README and docs/ leads to a file and heading that exist.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';

import {
  anchorOf,
  commandsSection,
  configFlagsByKey,
  headings,
  keyTable,
  renderSections,
  sectionsOf,
  staleSections,
} from '../../../scripts/readme-tables.ts';
import { synopsis } from '../../../src/cli/command.ts';
import { OPERATOR_COMMANDS } from '../../../src/cli/commands.ts';
import { main } from '../../../src/cli/main.ts';
import { KEYS, type KeySpec } from '../../../src/core/config/keys.ts';
import { REPO } from '../../support/paths.ts';

const readme = readFileSync(`${REPO}README.md`, 'utf8');

test('README.md holds what the code renders in each generated section (else: npm run docs)', () => {
  assert.deepEqual(
    staleSections(readme),
    [],
    'README.md sections differ from the code (src/cli/commands.ts, src/core/config/keys.ts, headings): ' +
      'run npm run docs',
  );
  const names = new Set(sectionsOf(readme).map((section) => section.name));
  for (const name of ['contents', 'commands', 'keys']) {
    assert.ok(names.has(name), `README.md has <!-- generated:${name} -->`);
  }
});

test('--help of every command prints the synopsis the README shows', async () => {
  for (const command of OPERATOR_COMMANDS) {
    let printed = '';
    const sink = { write: (data: string | Uint8Array) => (printed += String(data)) };
    assert.equal(await main([command.name, '--help'], { env: {}, stdout: sink, stderr: sink }), 0, command.name);
    const usage = printed
      .slice(0, printed.indexOf('\n\n'))
      .replace(/^Usage: /, '')
      .split('\n');
    const lines = synopsis(command);
    const unindented = usage.map((line, index) => (index === 0 ? line : line.slice('       '.length)));
    assert.deepEqual(unindented, lines, command.name);
    assert.ok(readme.includes(`\n${lines.join('\n')}\n`), `README.md shows ${command.name}'s synopsis`);
    assert.equal(readme.split(`${lines[0]}\n`).length - 1, 1, `README.md shows ${command.name}'s synopsis once`);
  }
});

test("every flag a command takes is in its synopsis, and every command's synopsis in the commands section", () => {
  for (const command of OPERATOR_COMMANDS) {
    const shown = synopsis(command).join('\n');
    const missing = Object.keys(command.options).filter((flag) => !new RegExp(`--${flag}(?![\\w-])`).test(shown));
    assert.deepEqual(missing, [], `flags of ${command.name} missing from its usage`);
  }
  const section = commandsSection(OPERATOR_COMMANDS);
  for (const command of OPERATOR_COMMANDS) assert.ok(section.includes(synopsis(command).join('\n')), command.name);
  assert.match(section, /^\| `decommission` \| drain this container instance/m);
  assert.match(section, /^ {2}--log-level LEVEL {2}error, warn, info or debug/m, 'the common options');
});

test('the key table: every key with its default and description, the flags that set it, secrets marked', () => {
  const table = keyTable(KEYS, configFlagsByKey(OPERATOR_COMMANDS));
  assert.equal(table.split('\n').length, Object.keys(KEYS).length + 2);
  assert.match(table, /^\| `GPU_SUPPORT` \| `auto` \| auto: .*; no: never \| `--no-gpu` \(plan, apply\) \|$/m);
  assert.match(table, /^\| `LOG_LEVEL` \| `info` \| error, warn, info or debug \| `--log-level` \|$/m);
  assert.match(table, /^\| `DRAIN_TIMEOUT` \| `30m` \| .* \| `--timeout` \(drain\) \|$/m);
  assert.match(table, /^\| `DECOMMISSION_TIMEOUT` \| `5m` \| .* \| `--timeout` \(decommission\) \|$/m);
  assert.match(table, /^\| `CONTROL_URL` \| \(empty\) \| control endpoint base URL; empty: no reporting \| \|$/m);
  assert.doesNotMatch(table, /^\| `CONTROL_TOKEN_FILE` .*Secret/m, 'a path to a secret is no secret');

  const spec: KeySpec<string> = { parse: (raw) => raw, default: '', description: 'database password | or token' };
  const secrets = keyTable({ DB_PASSWORD: spec, DB_HOST: { ...spec, description: 'host' } }, new Map());
  const marked = [
    '| `DB_PASSWORD` | (empty) |',
    'database password \\| or token',
    '**Secret**: shown as `<redacted>`.',
  ];
  assert.ok(secrets.includes(marked.join(' ')), secrets);
  assert.match(secrets, /^\| `DB_HOST` \| \(empty\) \| host \| \|$/m);
});

test("the sections' own key tables show each key's default as KEYS has it", () => {
  const defaults: Readonly<Record<string, KeySpec<unknown>>> = KEYS;
  const wrong = [...readme.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm)].flatMap(([, key, cell]) => {
    const spec = defaults[key as string];
    if (!spec) return [];
    const shown = /^`(.*)`$/.exec((cell as string).trim())?.[1] ?? '';
    if (shown === spec.default) return [];
    return [`${key}: README ${(cell as string).trim()}, KEYS ${JSON.stringify(spec.default)}`];
  });
  assert.deepEqual(wrong, []);
});

test('npm run docs rewrites only between the markers, and names what it cannot render', () => {
  const document = 'kept\n<!-- generated:commands -->\nstale\n<!-- /generated:commands -->\nkept too\n';
  assert.deepEqual(staleSections(document), ['commands']);
  const rendered = renderSections(document);
  const commands = commandsSection(OPERATOR_COMMANDS);
  assert.equal(rendered, `kept\n<!-- generated:commands -->\n${commands}\n<!-- /generated:commands -->\nkept too\n`);
  assert.deepEqual(staleSections(rendered), []);
  assert.equal(renderSections(rendered), rendered);
  const unknown = '<!-- generated:tables -->\n<!-- /generated:tables -->';
  assert.throws(() => renderSections(unknown), /unknown generated section tables; known: contents, commands/);
  const misclosed = '<!-- generated:keys -->\n<!-- /generated:commands -->';
  assert.throws(() => renderSections(misclosed), /generated:keys --> is closed by <!-- \/generated:commands/);
});

test('the table of contents lists every top-level section of the README, in order', () => {
  const contents = sectionsOf(readme).find((s) => s.name === 'contents')?.text ?? '';
  const listed = [...contents.matchAll(/^- \[(.*)\]\(#(.*)\)$/gm)];
  assert.deepEqual(
    listed.map(([, heading]) => heading),
    headings(readme, 2).filter((heading) => heading !== 'Contents'),
  );
  const daemon = 'The daemon (`ecs-host-agent run`) and its unit';
  assert.equal(anchorOf(daemon), 'the-daemon-ecs-host-agent-run-and-its-unit');
  assert.equal(anchorOf('/etc/ecs/ecs.config (concern `ecs-config`)'), 'etcecsecsconfig-concern-ecs-config');
});

test('every relative link of README.md and docs/ leads to a file that exists, and to a heading of it', () => {
  const docs = readdirSync(`${REPO}docs`).filter((file) => file.endsWith('.md'));
  const documents = ['README.md', ...docs.map((file) => `docs/${file}`)];
  const broken = documents.flatMap((document) => {
    const text = readFileSync(`${REPO}${document}`, 'utf8');
    return [...text.matchAll(/\]\(([^)\s]+)\)/g)].flatMap(([, link]) => {
      if (/^[a-z]+:/.test(link as string)) return [];
      const [path, fragment] = (link as string).split('#') as [string, string | undefined];
      const target = path ? normalize(join(dirname(document), path)) : document;
      if (!existsSync(`${REPO}${target}`)) return [`${document}: ${link} (no file ${target})`];
      if (!fragment || !target.endsWith('.md')) return [];
      const anchors = headings(readFileSync(`${REPO}${target}`, 'utf8')).map(anchorOf);
      return anchors.includes(fragment) ? [] : [`${document}: ${link} (no heading #${fragment} in ${target})`];
    });
  });
  assert.deepEqual(broken, []);
});
