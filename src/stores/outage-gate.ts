/**
 * Failing fast while a backend is down. After a connection failure every call fails at once with
 * `StoreUnavailableError` for `retryDelay`; then one call at a time is let through as a probe
 * (the others keep failing at once) until one succeeds. A client that learns by itself that the
 * connection is back (a `ready` event) opens the gate at once. Without it every request made
 * during an outage would wait out the whole call timeout before its 503.
 */
import { StoreUnavailableError } from '../core/errors.js';

export class OutageGate {
  /** Monotonic time until which calls fail at once; 0 while the backend is taken as up. */
  #downUntil = 0;
  #probing = false;
  #lastError: unknown = null;

  /**
   * @param retryDelay ms between probes while down.
   * @param refusal the error a refused call gets (it names the store and address), with the
   *   failure that closed the gate as its cause.
   */
  constructor(
    private readonly retryDelay: number,
    private readonly refusal: (cause: unknown) => StoreUnavailableError,
  ) {}

  /** Whether calls are failing fast now. */
  get down(): boolean {
    return this.#downUntil !== 0;
  }

  /**
   * Runs `call` unless the backend is known to be down. A failure for which `isOutage` says yes
   * closes the gate; any answer from the backend (a success, or an error the server replied)
   * opens it.
   */
  async run<T>(
    call: () => Promise<T>,
    isOutage: (err: unknown) => boolean = (err) => err instanceof StoreUnavailableError,
  ): Promise<T> {
    let probe = false;
    if (this.#downUntil !== 0) {
      if (this.#probing || performance.now() < this.#downUntil) throw this.refusal(this.#lastError);
      this.#probing = probe = true;
    }
    try {
      const value = await call();
      this.open();
      return value;
    } catch (err) {
      if (isOutage(err)) this.close(err);
      else if (probe) this.open();
      throw err;
    } finally {
      if (probe) this.#probing = false;
    }
  }

  /** The backend answered (or its client reconnected): calls go through again. */
  open(): void {
    this.#downUntil = 0;
    this.#lastError = null;
  }

  /** A connection failure: calls fail at once for `retryDelay`, then one probes. */
  close(cause: unknown): void {
    this.#downUntil = performance.now() + this.retryDelay;
    this.#lastError = cause;
  }
}
