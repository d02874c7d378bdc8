import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';

import { ARCHES, type Arch, CACHE, REPO } from './project.ts';
import { runTool } from './tool.ts';

/**
 * The official Node.js binary for an architecture, as the node-linux-<arch>
 * npm packages carry it. This machine's own comes from the `node`
 * devDependency; any other is fetched once with `npm pack` into the cache.
 */
export function nodeBinary(arch: Arch, version: string): string {
  const binary = installedBinary(arch, version) ?? cachedBinary(arch, version);
  checkElfMachine(binary, arch);
  return binary;
}

function installedBinary(arch: Arch, version: string): string | null {
  const name = `node-linux-${ARCHES[arch].node}`;
  const nested = `${REPO}node_modules/node/node_modules/${name}`;
  if (existsSync(`${nested}/package.json`) && JSON.parse(readFileSync(`${nested}/package.json`, 'utf8')).version === version) {
    return `${nested}/bin/node`;
  }
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

function cachedBinary(arch: Arch, version: string): string {
  const name = `node-linux-${ARCHES[arch].node}`;
  const dir = `${CACHE}/${name}-${version}`;
  const binary = `${dir}/node`;
  if (existsSync(binary)) return binary;
  mkdirSync(CACHE, { recursive: true });
  console.error(`package: fetching ${name}@${version} with npm pack`);
  const packed = JSON.parse(runTool('npm', ['pack', '--json', '--pack-destination', CACHE, `${name}@${version}`])) as { filename: string }[];
  const tarball = `${CACHE}/${packed[0]?.filename}`;
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  runTool('tar', ['-xzf', tarball, '-C', staging, 'package/bin/node']);
  renameSync(`${staging}/package/bin/node`, `${staging}/node`);
  rmSync(`${staging}/package`, { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  rmSync(tarball);
  return binary;
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
  if (!isElf || header.readUInt16LE(18) !== ARCHES[arch].elfMachine) throw new Error(`${binary} is not a Linux ${arch} ELF binary`);
}
