/**
 * Runs `work` over `items` with at most `overall` calls in flight, and at most `perKey` of them for one
 * key (a feed's host): a 1,000-feed OPML file is checked quickly without hammering a site that hosts
 * two hundred of its feeds. Items start in their order, except that one whose key is at its limit lets
 * the next item of another key go first. Results come back in the items' order.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limits: { overall: number; perKey: number; key: (item: T) => string },
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const overall = Math.max(1, Math.floor(limits.overall));
  const perKey = Math.max(1, Math.floor(limits.perKey));
  const results = new Array<R>(items.length);
  const keys = items.map((it) => limits.key(it));
  const waiting: number[] = items.map((_, i) => i);
  const busy = new Map<string, number>();
  let running = 0;
  return new Promise<R[]>((resolve, reject) => {
    let failed = false;
    const pump = () => {
      if (failed) return;
      if (waiting.length === 0 && running === 0) return resolve(results);
      // Scan for the first waiting item whose key has room. The scan is over the waiting list, which only
      // shrinks; with few keys at their limit it stops early.
      for (let w = 0; w < waiting.length && running < overall; ) {
        const i = waiting[w]!;
        const k = keys[i]!;
        if ((busy.get(k) ?? 0) >= perKey) {
          w++;
          continue;
        }
        waiting.splice(w, 1);
        busy.set(k, (busy.get(k) ?? 0) + 1);
        running++;
        work(items[i]!, i).then(
          (r) => {
            results[i] = r;
            running--;
            const left = busy.get(k)! - 1;
            if (left) busy.set(k, left);
            else busy.delete(k);
            pump();
          },
          (err: unknown) => {
            failed = true;
            reject(err);
          },
        );
      }
    };
    pump();
  });
}
