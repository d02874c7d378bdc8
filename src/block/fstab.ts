/**
 * /etc/fstab, line by line: the agent finds and replaces the one line that
 * mounts something on a mount point, and leaves every other line as it was.
 */
export interface FstabEntry {
  readonly index: number;
  readonly source: string;
  readonly line: string;
}

export function fstabLines(fstab: string): string[] {
  return fstab === '' ? [] : fstab.replace(/\n$/, '').split('\n');
}

/** The line that mounts something on mountPoint, if any. */
export function fstabEntry(lines: readonly string[], mountPoint: string): FstabEntry | null {
  for (const [index, line] of lines.entries()) {
    const fields = line.trim().split(/\s+/);
    if (fields[0]?.startsWith('#') || fields.length < 2) continue;
    if (fields[1] === mountPoint) return { index, source: fields[0] as string, line };
  }
  return null;
}

/** fstab with the mount point's line replaced by line, or line appended. */
export function withFstabEntry(fstab: string, mountPoint: string, line: string): string {
  const lines = fstabLines(fstab);
  const entry = fstabEntry(lines, mountPoint);
  if (entry) lines[entry.index] = line;
  else lines.push(line);
  return `${lines.join('\n')}\n`;
}
