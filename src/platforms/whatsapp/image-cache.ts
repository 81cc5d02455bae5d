import { Lru } from './lru.js';

/**
 * One download per article image, not one per send: an article fanned out to twenty WhatsApp chats
 * (an upload, or a link-preview thumbnail, each) fetches its image once. The cache holds the promise, so
 * sends that start together share one request, and it keeps failures too (a refused or oversized image
 * is not retried for every chat). Memory is bounded: `entries` images of at most the byte limit each,
 * forgotten after `ttlMs` (an image edited at the same URL is picked up again).
 */
export const IMAGE_CACHE_ENTRIES = 8;
export const IMAGE_CACHE_TTL_MS = 10 * 60_000;

export function onceByUrl(
  download: (url: string) => Promise<Uint8Array>,
  opts: { entries: number; ttlMs: number; clock?: () => number },
): (url: string) => Promise<Uint8Array> {
  const clock = opts.clock ?? Date.now;
  const cache = new Lru<string, { at: number; result: Promise<Uint8Array> }>(opts.entries);
  return (url) => {
    const now = clock();
    const hit = cache.get(url);
    if (hit && now - hit.at < opts.ttlMs) return hit.result;
    const result = download(url);
    // The cached promise is awaited by each caller; this keeps an unawaited failure from being "unhandled".
    result.catch(() => undefined);
    cache.set(url, { at: now, result });
    return result;
  };
}
