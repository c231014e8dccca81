/**
 * The CSRF token of a visitor without a stored session (double submit): it lives only in the CSRF
 * cookie. A token that came in the cookie can be verified; one issued during this request cannot
 * (no submitted value can know it yet), and its cookie goes out with the response.
 */
import { constantTimeEqual, generateToken, isWellFormedToken } from '../core/tokens.js';

export class PreSessionCsrf {
  /** The CSRF cookie the request carried (any value): a commit corrects a stale one. */
  readonly cookie: string | null;
  #token: string | null;
  #issued = false;

  constructor(cookie: string | null) {
    this.cookie = cookie;
    this.#token = isWellFormedToken(cookie) ? cookie : null;
  }

  /** The token; `beforeIssue` runs just before one is made for a request that carried none. */
  token(beforeIssue: () => void): string {
    if (this.#token === null) {
      beforeIssue();
      this.#token = generateToken();
      this.#issued = true;
    }
    return this.#token;
  }

  /** The token issued during this request, or `null`. */
  get issued(): string | null {
    return this.#issued ? this.#token : null;
  }

  /** Whether a submitted value can match: a token the request brought in its cookie. */
  get verifiable(): boolean {
    return this.#token !== null && !this.#issued;
  }

  /** Whether `submitted` is the token the request brought, compared in constant time. */
  verify(submitted: unknown): boolean {
    return (
      this.verifiable && typeof submitted === 'string' && constantTimeEqual(this.#token!, submitted)
    );
  }

  /** A stored session now backs the request: its own CSRF token replaces this one. */
  drop(): void {
    this.#token = null;
    this.#issued = false;
  }
}
