import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository and what package.json says about the agent. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const PACKAGING = `${REPO}packaging/`;
/** Downloaded Node.js runtimes; under node_modules, so `npm ci` starts afresh. */
export const CACHE = `${REPO}node_modules/.cache/ecs-host-agent-packaging`;

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly license: string;
  readonly homepage?: string;
  readonly devDependencies: Readonly<Record<string, string>>;
}

export const PACKAGE_JSON_PATH = `${REPO}package.json`;
export const PACKAGE_JSON: PackageJson = JSON.parse(readFileSync(PACKAGE_JSON_PATH, 'utf8'));

/** The Node.js the packages ship: the same version the repository develops and tests with. */
export function nodeVersion(): string {
  const version = PACKAGE_JSON.devDependencies.node;
  if (!version || !/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`package.json devDependencies.node must be an exact version, not ${JSON.stringify(version)}`);
  return version;
}

export type Arch = 'amd64' | 'arm64';

/** Each architecture under the names Debian, RPM, Node.js and ELF give it. */
export const ARCHES: Readonly<
  Record<Arch, { readonly rpm: string; readonly node: string; readonly elfMachine: number }>
> = {
  amd64: { rpm: 'x86_64', node: 'x64', elfMachine: 0x3e },
  arm64: { rpm: 'aarch64', node: 'arm64', elfMachine: 0xb7 },
};

export function isArch(name: string): name is Arch {
  return Object.hasOwn(ARCHES, name);
}
