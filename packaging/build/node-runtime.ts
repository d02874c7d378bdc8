import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
} from 'node:fs';

import { ARCHES, type Arch, CACHE, REPO } from './project.ts';
import { runTool } from './tool.ts';

/** The Node.js a package ships: its binary and the LICENSE that covers it and what it embeds. */
export interface NodeRuntime {
  readonly binary: string;
  readonly license: string;
}

const NESTED = `${REPO}node_modules/node/node_modules`;

/**
 * The official Node.js for an architecture, as the node-linux-<arch> npm
 * packages carry it. This machine's own comes from the `node`
 * devDependency; anything missing is fetched once with `npm pack` into the cache.
 */
export function nodeRuntime(arch: Arch, version: string): NodeRuntime {
  const binary = installedBinary(arch, version) ?? cachedFile(arch, version, 'bin/node');
  checkElfMachine(binary, arch);
  return { binary, license: knownLicense(version) ?? cachedFile(arch, version, 'LICENSE') };
}

function installedBinary(arch: Arch, version: string): string | null {
  const nested = `${NESTED}/node-linux-${ARCHES[arch].node}`;
  if (isPackageVersion(nested, version)) return `${nested}/bin/node`;
  // npm may prune the nested package after the `node` preinstall linked its binary to node/bin/node.
  const linked = `${REPO}node_modules/node/bin/node`;
  if (process.arch !== ARCHES[arch].node || !existsSync(linked)) return null;
  return reportsVersion(linked, version) ? linked : null;
}

function reportsVersion(binary: string, version: string): boolean {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim() === `v${version}`;
  } catch {
    return false;
  }
}

function isPackageVersion(dir: string, version: string): boolean {
  return (
    existsSync(`${dir}/package.json`) && JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')).version === version
  );
}

/** Every architecture's package of a version carries the same LICENSE (one source tree), so any copy will do. */
function knownLicense(version: string): string | null {
  const installed = existsSync(NESTED) ? readdirSync(NESTED).map((name) => `${NESTED}/${name}`) : [];
  const cached = existsSync(CACHE)
    ? readdirSync(CACHE)
        .filter((name) => name.endsWith(`-${version}`))
        .map((name) => `${CACHE}/${name}`)
    : [];
  const found = [...installed.filter((dir) => isPackageVersion(dir, version)), ...cached].find((dir) =>
    existsSync(`${dir}/LICENSE`),
  );
  return found ? `${found}/LICENSE` : null;
}

/** A file of the node-linux-<arch> package from the cache, which holds the binary and the LICENSE. */
function cachedFile(arch: Arch, version: string, file: 'bin/node' | 'LICENSE'): string {
  const name = `node-linux-${ARCHES[arch].node}`;
  const dir = `${CACHE}/${name}-${version}`;
  if (existsSync(`${dir}/${file}`)) return `${dir}/${file}`;
  mkdirSync(CACHE, { recursive: true });
  console.error(`package: fetching ${name}@${version} with npm pack`);
  const packed = JSON.parse(runTool('npm', ['pack', '--json', '--pack-destination', CACHE, `${name}@${version}`])) as {
    filename: string;
  }[];
  const tarball = `${CACHE}/${packed[0]?.filename}`;
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  runTool('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  rmSync(tarball);
  return `${dir}/${file}`;
}

/** A binary for the wrong architecture would only fail on the instance. */
function checkElfMachine(binary: string, arch: Arch): void {
  const header = Buffer.alloc(20);
  const fd = openSync(binary, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  const isElf = header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  if (!isElf || header.readUInt16LE(18) !== ARCHES[arch].elfMachine)
    throw new Error(`${binary} is not a Linux ${arch} ELF binary`);
}
