/**
 * A small least-recently-used map: bounded memory for "recently seen" sets (incoming message ids) and
 * "recently sent" messages (served back to Baileys through `getMessage` when a recipient asks for a retry).
 * A Map keeps insertion order, so the first key is always the oldest.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`LRU capacity must be at least 1, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, marked as recently used; undefined when absent. */
  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const value = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Records `key`; returns true if it was already there (a duplicate). */
  seen(key: K, value: V): boolean {
    const dup = this.map.has(key);
    this.set(key, value);
    return dup;
  }

  clear(): void {
    this.map.clear();
  }
}
