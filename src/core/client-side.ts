/**
 * The contract between a client-side store (the encrypted cookie store) and the HTTP layer. A
 * client-side store keeps no session anywhere: each request's session is what its cookies carry.
 * The HTTP layer opens a request's cookies, runs the manager's calls for that request inside the
 * request's scope (where the store's operations act on that one session), and at the end of the
 * request seals the session back into the cookies of the response.
 */

/** One request's client-side session: what its cookies carried and what the request did to it. */
export interface ClientSessionScope {
  /**
   * The token of the session the cookies carried (sealed inside them), or `null` when they carried
   * none or it did not unseal whole (tampered, truncated, re-ordered, unknown key).
   */
  readonly token: string | null;
  /**
   * Runs `fn` with the store's operations acting on this request's session: the manager's calls
   * for the request go through here, so the store sees the request's cookies and nothing else.
   */
  run<T>(fn: () => T): T;
  /** Whether the session with this id was written in this request (created, touched, changed). */
  changed(id: string): boolean;
  /**
   * The cookie values (chunk 0 first) that carry the session with this id and token, or `null`
   * when this request holds no such live session. Throws `DataTooLargeError` when it does not fit.
   */
  seal(id: string, token: string, now: number): Promise<string[] | null>;
}

/** What a client-side store offers the HTTP layer (`SessionStore.clientSide`). */
export interface ClientSideSessions {
  /**
   * The most cookies one session may use. Chunk 0 is the session cookie itself, chunk `i` the
   * cookie named `<session cookie>.<i>`.
   */
  readonly maxChunks: number;
  /** Opens a request's session from its cookies: `chunk(i)` is the value of chunk `i`, if sent. */
  open(chunk: (index: number) => string | undefined, now: number): Promise<ClientSessionScope>;
}
