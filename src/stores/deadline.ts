/**
 * The deadline on a store call: the one piece of code behind "a backend that is slow yields an
 * error within the configured timeout, never a hang and never an unhandled rejection" for the
 * stores whose client has no reliable deadline of its own (Redis scripts, SQL operations).
 */

/**
 * Runs `work` and settles within `timeoutMs`: past it the result rejects with `onTimeout()` while
 * the work, which cannot be cancelled, is abandoned (its later failure is caught here, so it is
 * never an unhandled rejection). `work` is handed `expired()`, so a step that has not started yet
 * (a command still waiting for its connection) can refuse to start once the caller was told it
 * failed.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  work: (expired: () => boolean) => Promise<T>,
  onTimeout: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let expired = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(onTimeout());
    }, timeoutMs);
  });
  try {
    const running = work(() => expired);
    running.catch(() => {});
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
