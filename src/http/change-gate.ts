/**
 * When a request's session may still change: not when loaded read-only (a WebSocket upgrade), not
 * once committed. It also tells an adapter, once, just before the first change, so one that must
 * hold the response to commit (Express) can start holding it only then.
 */
import { SessionCommittedError, SessionReadOnlyError } from '../core/errors.js';

export class ChangeGate {
  readonly #readOnly: string | undefined;
  #committed = false;
  #onFirstChange: (() => boolean) | null = null;

  /** `readOnly`: why the session may not change (named in `SessionReadOnlyError`), if so. */
  constructor(readOnly: string | undefined) {
    this.#readOnly = readOnly;
  }

  get committed(): boolean {
    return this.#committed;
  }

  /** Marks the session committed; false if it already was (a commit runs once). */
  commit(): boolean {
    if (this.#committed) return false;
    this.#committed = true;
    return true;
  }

  /** See `RequestSession.watchChanges`. */
  watch(listener: () => boolean): void {
    this.#onFirstChange = listener;
  }

  /** A change is about to be made (one that is not refused, such as a flash read). */
  note(): void {
    const listener = this.#onFirstChange;
    if (listener === null) return;
    this.#onFirstChange = null;
    if (!listener()) this.#committed = true;
  }

  /**
   * A change that only this response could carry is about to be made (a pre-session CSRF token
   * whose cookie must go out, flash messages consumed): refused once committed.
   */
  assertUncommitted(): void {
    this.note();
    if (this.#committed) throw new SessionCommittedError();
  }

  /** A change is about to be made: refused when read-only or committed. */
  assertOpen(): void {
    if (this.#readOnly !== undefined) throw new SessionReadOnlyError(this.#readOnly);
    this.note();
    if (this.#committed) throw new SessionCommittedError();
  }
}
