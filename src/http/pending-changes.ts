/**
 * A request's pending data changes: the keys it set and the keys it removed, saved as one delta
 * when the response is sent. The request session allocates one on its first write, so a
 * read-only request costs nothing.
 */
import { type KeepData, keeps } from '../core/data-carry.js';
import type { JsonValue } from '../core/types.js';

/** Data key that carries flash messages to the next request. */
export const FLASH_KEY = '__flash';

export class PendingChanges {
  readonly sets = new Map<string, JsonValue>();
  readonly unsets = new Set<string>();

  set(key: string, value: JsonValue): void {
    this.unsets.delete(key);
    this.sets.set(key, value);
  }

  /** Adds a flash message for the next request, beside those this request flashed already. */
  flash(key: string, value: JsonValue): void {
    const flashed = this.sets.get(FLASH_KEY);
    const current =
      flashed && typeof flashed === 'object' && !Array.isArray(flashed) ? flashed : {};
    this.set(FLASH_KEY, { ...current, [key]: value });
  }

  delete(key: string): void {
    this.sets.delete(key);
    this.unsets.add(key);
  }

  /** What a read of `key` sees from this request: its value, `undefined` if removed, else `null`. */
  lookup(key: string): { value: JsonValue | undefined } | null {
    if (this.sets.has(key)) return { value: this.sets.get(key) };
    return this.unsets.has(key) ? { value: undefined } : null;
  }

  /** `data` with the changes applied. Spread defines own properties: "__proto__" stays a key. */
  applyTo(data: Readonly<Record<string, JsonValue>>): Record<string, JsonValue> {
    const next: Record<string, JsonValue> = { ...data };
    for (const key of this.unsets) delete next[key];
    return { ...next, ...this.setsAsData() };
  }

  /** Drops the sets `keepData` does not keep (a login narrowing what it carries over). */
  narrow(keepData: KeepData): void {
    if (keepData === true) return;
    for (const key of [...this.sets.keys()]) if (!keeps(keepData, key)) this.sets.delete(key);
  }

  get isEmpty(): boolean {
    return this.sets.size === 0 && this.unsets.size === 0;
  }

  /** The keys set, as data (own properties). */
  setsAsData(): Record<string, JsonValue> {
    return Object.fromEntries(this.sets);
  }
}
