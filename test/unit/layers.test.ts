/**
 * Layers that point one way: every import in src/ (a value, a type, a re-export or a dynamic import) goes to the
 * importing file's own layer or one below it, never to one above. docs/architecture.md says it in words.
 */
import assert from 'node:assert/strict';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

import { importsOf, SRC, sourceFiles, sourceImports } from '../support/imports.ts';

interface Layer {
  readonly name: string;
  /** Folders ("core/") and files ("core/runner.ts") of src/; a file belongs to the longest entry that holds it. */
  readonly paths: readonly string[];
}

/** Lowest first. Folders of one layer may import each other. */
const LAYERS: readonly Layer[] = [
  // Errors and exit codes, the logger, the configuration and its parsers, commands and steps; the Host seam, whose
  // failures are core's errors and which core's commands run on.
  { name: 'foundation', paths: ['core/', 'host/'] },
  { name: 'AWS clients', paths: ['aws/'] },
  // The distribution, its package managers, init system and block devices.
  { name: 'platform', paths: ['os/', 'pkg/', 'block/'] },
  // Concern, Action and the runner, whose context holds the OS facts.
  { name: 'converge model', paths: ['core/concern.ts', 'core/runner.ts'] },
  // What a recurring job is and the clock it is scheduled by; the daemon that runs the jobs is near the top.
  { name: 'scheduling', paths: ['daemon/clock.ts', 'daemon/scheduler.ts', 'daemon/job.ts'] },
  { name: 'ECS agent', paths: ['ecs-agent/'] },
  // Collecting samples; control delivers them, so it sits above.
  { name: 'metrics', paths: ['metrics/'] },
  { name: 'control', paths: ['control/'] },
  { name: 'concerns', paths: ['concerns/'] },
  { name: 'operations', paths: ['decommission/', 'doctor/'] },
  { name: 'jobs', paths: ['jobs/'] },
  { name: 'daemon', paths: ['daemon/'] },
  { name: 'CLI', paths: ['cli/'] },
];

function holds(path: string, file: string): boolean {
  return path.endsWith('/') ? file.startsWith(path) : file === path;
}

/** The index of the layer a file of src/ belongs to, or -1. */
function layerOf(file: string): number {
  let best = { index: -1, length: 0 };
  LAYERS.forEach((layer, index) => {
    for (const path of layer.paths) {
      if (holds(path, file) && path.length > best.length) best = { index, length: path.length };
    }
  });
  return best.index;
}

/** A relative import of src/ as the file it names under src/, or null for a package, node: or a file outside src/. */
function targetOf(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = relative(SRC, normalize(join(SRC, dirname(file), specifier)));
  return target.startsWith('..') ? null : target;
}

/** "from (layer) -> to (layer)" for each import that goes up. */
function upwardImports(files: ReadonlyMap<string, readonly { specifier: string }[]>): string[] {
  const name = (file: string) => `src/${file} (${LAYERS[layerOf(file)]?.name ?? 'no layer'})`;
  return [...files].flatMap(([file, imports]) =>
    imports
      .map((i) => targetOf(file, i.specifier))
      .filter((target): target is string => target !== null && layerOf(target) > layerOf(file))
      .map((target) => `${name(file)} imports ${name(target)}`),
  );
}

const files = sourceFiles();

test('every file of src/ belongs to a layer, and every layer entry holds a file', () => {
  assert.deepEqual(
    files.filter((file) => layerOf(file) === -1),
    [],
  );
  const empty = LAYERS.flatMap((layer) => layer.paths).filter((path) => !files.some((file) => holds(path, file)));
  assert.deepEqual(empty, []);
});

test('no file imports a layer above its own', () => {
  assert.deepEqual(upwardImports(sourceImports()), []);
});

test('core never imports a concern, and metrics never imports control', () => {
  const below = (lower: string, higher: string) => layerOf(lower) < layerOf(higher);
  assert.ok(below('core/config/load.ts', 'concerns/index.ts'));
  assert.ok(below('core/errors.ts', 'concerns/ecs-config/index.ts'));
  assert.ok(below('metrics/sample.ts', 'control/spool.ts'));
});

test('an import of a higher layer is found, whichever kind it is', () => {
  const text = [
    "import { ConfigError } from '../errors.ts';",
    "import type { Concern } from '../concern.ts';",
    "export { parseVolumes } from '../../concerns/volumes/parse.ts';",
    "const spool = () => import('../../control/spool.ts');",
    "type Sample = import('../../metrics/sample.ts').Sample;",
    "import { Job } from 'node:test';",
    "// import { job } from '../../jobs/updates.ts';",
  ].join('\n');
  const found = upwardImports(new Map([['core/config/load.ts', importsOf(text)]]));
  assert.deepEqual(found, [
    'src/core/config/load.ts (foundation) imports src/core/concern.ts (converge model)',
    'src/core/config/load.ts (foundation) imports src/concerns/volumes/parse.ts (concerns)',
    'src/core/config/load.ts (foundation) imports src/control/spool.ts (control)',
    'src/core/config/load.ts (foundation) imports src/metrics/sample.ts (metrics)',
  ]);
});
