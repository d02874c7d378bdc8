import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Runs a tool a test's setup needs (rpmbuild, createrepo_c …) and returns its
 * stdout. Any failure, including the tool being absent, throws with the tool's
 * own output, so a broken fixture fails loudly instead of skipping.
 */
export async function runTool(file: string, args: readonly string[]): Promise<string> {
  try {
    return (await execFileAsync(file, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
    const missing = failure.code === 'ENOENT' ? ` (${file} is not installed: npm test's setup installs it)` : '';
    const output = (failure.stderr || failure.stdout || failure.message).trim();
    throw new Error(`${[file, ...args].join(' ')} failed${missing}: ${output}`);
  }
}
