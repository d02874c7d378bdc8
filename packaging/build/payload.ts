import { chmodSync, constants, copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

import type { Bundle } from './bundle.ts';
import { PACKAGING, REPO } from './project.ts';

export const LIB_DIR = '/usr/lib/ecs-host-agent';
export const CONFIG_DIR = '/etc/ecs-host-agent';
export const MAIN_UNIT = 'ecs-host-agent.service';
export const NODE_PATH = `${LIB_DIR}/node`;
export const DOC_DIR = '/usr/share/doc/ecs-host-agent';
/** The units' Documentation= points here. */
export const README_PATH = `${DOC_DIR}/README.md`;
/** The bundle's entry and the chunks it loads, as licence texts name them. */
export const BUNDLE_FILES = `${LIB_DIR}/*.mjs`;
const SYSTEMD_DIR = `${REPO}systemd`;
const UNIT_SUFFIXES = ['.service', '.timer', '.socket', '.path', '.target', '.mount'];

/** One file the package installs. */
export interface PayloadFile {
  readonly path: string;
  readonly source: string;
  readonly mode: number;
  /** An administrator's file: kept as edited on upgrade (deb conffile, rpm %config(noreplace)). */
  readonly config?: boolean;
  /** A licence text (rpm %license: kept even where documentation is not installed). */
  readonly license?: boolean;
  /** Documentation (rpm %doc: left out where documentation is not installed). */
  readonly doc?: boolean;
}

export interface Unit {
  readonly name: string;
  readonly source: string;
  /** Has an [Install] section, so it is enabled on install. */
  readonly installable: boolean;
}

/** Every unit under systemd/ goes into the packages. */
export function units(): Unit[] {
  const found = readdirSync(SYSTEMD_DIR)
    .filter((name) => UNIT_SUFFIXES.some((suffix) => name.endsWith(suffix)))
    .sort()
    .map((name) => {
      // Unit names go into the maintainer scripts' word lists.
      if (!/^[A-Za-z0-9@._-]+$/.test(name))
        throw new Error(`unit file name ${JSON.stringify(name)} has characters a unit name cannot have`);
      return name;
    })
    .map((name) => {
      const source = `${SYSTEMD_DIR}/${name}`;
      return { name, source, installable: /^\[Install\]/m.test(readFileSync(source, 'utf8')) };
    });
  if (!found.some((unit) => unit.name === MAIN_UNIT)) throw new Error(`${SYSTEMD_DIR}/${MAIN_UNIT} is missing`);
  return found;
}

/** The files of a package; `unitDir` and the licence files differ between the deb and the rpm. */
export function payloadFiles(
  bundle: Bundle,
  node: string,
  unitDir: string,
  licenses: readonly PayloadFile[],
): PayloadFile[] {
  return [
    { path: '/usr/bin/ecs-host-agent', source: `${PACKAGING}wrapper.sh`, mode: 0o755 },
    { path: NODE_PATH, source: node, mode: 0o755 },
    ...bundle.files.map((source) => ({ path: `${LIB_DIR}/${basename(source)}`, source, mode: 0o644 })),
    { path: `${LIB_DIR}/keys/amazon-ecs-agent.asc`, source: `${PACKAGING}keys/amazon-ecs-agent.asc`, mode: 0o644 },
    { path: `${CONFIG_DIR}/agent.env`, source: `${PACKAGING}agent.env`, mode: 0o600, config: true },
    ...units().map((unit) => ({ path: `${unitDir}/${unit.name}`, source: unit.source, mode: 0o644 })),
    ...documentation().map((file) => ({
      path: `${DOC_DIR}/${file}`,
      source: `${REPO}${file}`,
      mode: 0o644,
      doc: true,
    })),
    ...licenses,
  ];
}

/**
 * The README and the documents its links lead to, at the same paths relative to each other, so the links work
 * where the package installs them too.
 */
export function documentation(): string[] {
  const docs = readdirSync(`${REPO}docs`)
    .filter((name) => name.endsWith('.md'))
    .sort();
  return ['README.md', ...docs.map((name) => `docs/${name}`), PROTOCOL_DOC];
}
const PROTOCOL_DOC = 'src/control/PROTOCOL.md';

/** Directories the package owns (removed with it when empty). */
export const OWNED_DIRS = [
  LIB_DIR,
  `${LIB_DIR}/keys`,
  CONFIG_DIR,
  DOC_DIR,
  `${DOC_DIR}/docs`,
  `${DOC_DIR}/src`,
  `${DOC_DIR}/src/control`,
];

export function stagePayload(root: string, files: readonly PayloadFile[]): void {
  for (const file of files) {
    const target = `${root}${file.path}`;
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    copyFileSync(file.source, target, constants.COPYFILE_FICLONE);
    chmodSync(target, file.mode);
  }
}
