/**
 * The in-process history behind the "active sessions over the last hours" chart: a ring buffer of
 * samples the dashboard takes itself, at most one per interval.
 *
 * Why samples rather than a reconstruction from the listed sessions' `createdAt`/`lastSeenAt`: a
 * store only lists live sessions, so every session that ended would be missing from the past and
 * the curve would always climb towards "now". Samples are exact for the moments they were taken;
 * their cost is that the chart starts empty when the process starts and that each process keeps
 * its own (hosts with several processes see the one that served the page).
 */

export interface ActivitySample {
  /** Epoch ms. */
  at: number;
  activeSessions: number;
  distinctUsers: number;
}

export class ActivityHistory {
  readonly #samples: (ActivitySample | undefined)[];
  readonly #interval: number;
  #next = 0;
  #size = 0;

  /** Keeps `window / interval` samples: the last `window` ms at one sample per `interval`. */
  constructor(window: number, interval: number) {
    this.#interval = interval;
    this.#samples = new Array(Math.max(2, Math.ceil(window / interval) + 1));
  }

  get interval(): number {
    return this.#interval;
  }

  /** The newest sample, if any. */
  latest(): ActivitySample | undefined {
    if (this.#size === 0) return undefined;
    return this.#samples[(this.#next - 1 + this.#samples.length) % this.#samples.length];
  }

  /** Whether a sample taken at `now` would be kept (the last one is at least an interval old). */
  due(now: number): boolean {
    const last = this.latest();
    return !last || now - last.at >= this.#interval;
  }

  /** Adds a sample when due; a newer reading within the same interval replaces the last one. */
  record(sample: ActivitySample): void {
    const last = this.latest();
    if (last && sample.at - last.at < this.#interval && sample.at >= last.at) {
      // Same interval: keep the first sample's time so the spacing stays even, but the fresh counts.
      this.#samples[(this.#next - 1 + this.#samples.length) % this.#samples.length] = {
        ...sample,
        at: last.at,
      };
      return;
    }
    this.#samples[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#size = Math.min(this.#size + 1, this.#samples.length);
  }

  /** Samples taken at or after `since`, oldest first. */
  since(since: number): ActivitySample[] {
    const out: ActivitySample[] = [];
    for (let i = 0; i < this.#size; i++) {
      const index = (this.#next - this.#size + i + this.#samples.length) % this.#samples.length;
      const sample = this.#samples[index];
      if (sample && sample.at >= since) out.push(sample);
    }
    return out;
  }
}
