/**
 * Reads dpkg's database (/var/lib/dpkg/status) directly: no process, and it
 * works the same on this machine and on an image root.
 */
export interface DpkgPackage {
  readonly name: string;
  readonly version: string;
  readonly installed: boolean;
}

export function parseDpkgStatus(text: string): Map<string, DpkgPackage> {
  const packages = new Map<string, DpkgPackage>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const match = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (match) fields.set(match[1] as string, match[2] as string);
    }
    const name = fields.get('Package');
    if (name === undefined) continue;
    const installed = / installed$/.test(fields.get('Status') ?? '');
    packages.set(name, { name, version: fields.get('Version') ?? '', installed });
  }
  return packages;
}
