import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { FakeHost } from './fake-host.ts';
import { FIXTURES } from './paths.ts';

/** The files of a fixture tree (e.g. "os/amzn-2023"), keyed by their path on the system. */
export function fixtureFiles(name: string): Record<string, string> {
  const base = join(FIXTURES, name);
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files[path.slice(base.length)] = readFileSync(path, 'utf8');
    }
  };
  walk(base);
  return files;
}

export function osFixtureNames(): string[] {
  return readdirSync(join(FIXTURES, 'os')).filter((name) => statSync(join(FIXTURES, 'os', name)).isDirectory());
}

/** A FakeHost holding one OS fixture and a dpkg database, as an image root or this machine. */
export function fakeHostFor(fixture: string, root = '/'): FakeHost {
  const host = new FakeHost({ ...fixtureFiles(`os/${fixture}`), '/var/lib/dpkg/status': '' }, root);
  return host.answer('rpm', { exitCode: 1, stdout: 'package x is not installed\n' }, ['-q']);
}
