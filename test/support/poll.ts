/**
 * Waits for something real processes or servers do (a child's output, a receiver's store, a PromQL answer): no
 * fake clock can hurry them, so the condition is checked every `everyMs` until it holds, or the test fails naming
 * it after `boundMs`. A bound, never a timing assertion: how long it took is not what is tested.
 */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  boundMs = 30_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting (${boundMs} ms) for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
