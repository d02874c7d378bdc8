import { execFileSync } from 'node:child_process';

/** Runs a build tool; its own error output is the message when it fails. */
export function runTool(file: string, args: readonly string[], options: { cwd?: string } = {}): string {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 2 ** 20,
      ...options,
    });
  } catch (error) {
    const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${(stderr || stdout || message).trim()}`);
  }
}
