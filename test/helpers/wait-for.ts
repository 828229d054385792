/** Polls a condition until it holds or the deadline passes: tests wait on conditions, not sleeps. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
