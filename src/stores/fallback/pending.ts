/**
 * The terminations a fallback store served from the secondary while the primary was down, kept in
 * memory and replayed on the primary before traffic returns to it, so a logout made during an
 * outage is never undone by the primary's stale copy. Bounded: past `max` the oldest is forgotten
 * and an error logged.
 */
import type { Logger } from '../../core/logger.js';
import type { SessionStore, TerminationReason } from '../../core/types.js';

/** Terminations replayed on the primary at once during a failback. */
const REPLAY_CONCURRENCY = 16;

export class PendingTerminations {
  readonly #destroys = new Map<string, TerminationReason>();
  readonly #userDestroys = new Map<string, { reason: TerminationReason; exceptId?: string }>();

  constructor(
    private readonly max: number,
    private readonly logger: Logger,
  ) {}

  /** Remembers one session's termination. */
  destroy(id: string, reason: TerminationReason): void {
    if (this.#destroys.size >= this.max && !this.#destroys.has(id)) {
      this.logger.error(
        { max: this.max },
        'tessera: too many terminations during the outage; the oldest will not be replayed',
      );
      this.#destroys.delete(this.#destroys.keys().next().value!);
    }
    this.#destroys.set(id, reason);
  }

  /** Remembers the termination of a user's sessions (all, or all but `exceptId`). */
  destroyUser(userId: string, reason: TerminationReason, exceptId?: string): void {
    const previous = this.#userDestroys.get(userId);
    // Two different exceptions cannot both be kept: ending more is the safe side.
    const except = previous && previous.exceptId !== exceptId ? undefined : exceptId;
    this.#userDestroys.set(userId, { reason, exceptId: except });
  }

  /**
   * Replays every remembered termination on `primary`. Terminations remembered while replaying are
   * replayed too: it returns only when none is left, so the caller can switch traffic to the primary
   * in the same tick. A failure leaves what was not replayed remembered, and reaches the caller.
   */
  async replayOn(primary: SessionStore): Promise<void> {
    while (this.#destroys.size > 0 || this.#userDestroys.size > 0) {
      if (this.#destroys.size > 0) {
        await this.#replayDestroys(primary);
        continue;
      }
      const [userId, { reason, exceptId }] = this.#userDestroys.entries().next().value!;
      await primary.destroyUser(userId, { reason, exceptId, now: Date.now() });
      this.#userDestroys.delete(userId);
    }
  }

  async #replayDestroys(primary: SessionStore): Promise<void> {
    const batch = [...this.#destroys].slice(0, REPLAY_CONCURRENCY);
    await Promise.all(
      batch.map(async ([id, reason]) => {
        await primary.destroy(id, reason, Date.now());
        // Re-remembered meanwhile with the same id: that one is done too.
        this.#destroys.delete(id);
      }),
    );
  }
}
