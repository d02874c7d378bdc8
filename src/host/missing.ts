/**
 * What `read` resolves to, or null when nothing is at its path: ENOENT, or ENOTDIR (a file where a directory of
 * the path should be, so nothing can be below it). Any other error is one.
 */
export async function nullIfMissing<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
}
