/**
 * An indexed binary min-heap of (id, expiresAt). Updating an id's expiry moves it in place, so the
 * heap holds one entry per id and `popExpired` costs O(k log n) for k expired entries: cleanup
 * follows the number expired, not the number stored.
 */
export class ExpiryHeap {
  private readonly ids: string[] = [];
  private readonly times: number[] = [];
  private readonly positions = new Map<string, number>();

  get size(): number {
    return this.ids.length;
  }

  /** Insert `id` or move it to its new expiry. */
  set(id: string, expiresAt: number): void {
    const at = this.positions.get(id);
    if (at === undefined) {
      this.ids.push(id);
      this.times.push(expiresAt);
      this.positions.set(id, this.ids.length - 1);
      this.up(this.ids.length - 1);
      return;
    }
    const before = this.times[at]!;
    this.times[at] = expiresAt;
    if (expiresAt < before) this.up(at);
    else this.down(at);
  }

  delete(id: string): void {
    const at = this.positions.get(id);
    if (at === undefined) return;
    const last = this.ids.length - 1;
    this.swap(at, last);
    this.ids.pop();
    this.times.pop();
    this.positions.delete(id);
    if (at < this.ids.length) {
      this.up(at);
      this.down(at);
    }
  }

  /** Remove and return every id whose expiry is at or before `now`. */
  popExpired(now: number, max = Number.POSITIVE_INFINITY): string[] {
    const out: string[] = [];
    while (out.length < max && this.ids.length > 0 && this.times[0]! <= now) {
      const id = this.ids[0]!;
      this.delete(id);
      out.push(id);
    }
    return out;
  }

  private up(i: number): void {
    let child = i;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (this.times[parent]! <= this.times[child]!) return;
      this.swap(parent, child);
      child = parent;
    }
  }

  private down(i: number): void {
    const n = this.ids.length;
    let parent = i;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < n && this.times[left]! < this.times[smallest]!) smallest = left;
      if (right < n && this.times[right]! < this.times[smallest]!) smallest = right;
      if (smallest === parent) return;
      this.swap(parent, smallest);
      parent = smallest;
    }
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    const idA = this.ids[a]!;
    const idB = this.ids[b]!;
    this.ids[a] = idB;
    this.ids[b] = idA;
    const t = this.times[a]!;
    this.times[a] = this.times[b]!;
    this.times[b] = t;
    this.positions.set(idB, a);
    this.positions.set(idA, b);
  }
}
