import { describe, expect, it } from 'vitest';
import { onceByUrl } from '../../../src/platforms/whatsapp/image-cache.js';

describe('onceByUrl (one image download per URL across a fan-out)', () => {
  it('shares one download between concurrent and later sends, failures included, within the TTL', async () => {
    const calls: string[] = [];
    let now = 0;
    const get = onceByUrl(
      async (url) => {
        calls.push(url);
        if (url.includes('bad')) throw new Error('refused');
        return new Uint8Array([calls.length]);
      },
      { entries: 2, ttlMs: 1000, clock: () => now },
    );
    const [a, b] = await Promise.all([get('http://x/1.jpg'), get('http://x/1.jpg')]);
    expect(a).toBe(b);
    await expect(get('http://x/bad.jpg')).rejects.toThrow('refused');
    await expect(get('http://x/bad.jpg')).rejects.toThrow('refused');
    expect(calls).toEqual(['http://x/1.jpg', 'http://x/bad.jpg']);
    // Past the TTL the image is fetched again (an edited image at the same URL).
    now = 1500;
    await get('http://x/1.jpg');
    expect(calls).toHaveLength(3);
    // Bounded: a third URL evicts the least recently used one.
    await get('http://x/2.jpg');
    await get('http://x/3.jpg');
    await get('http://x/1.jpg').catch(() => undefined);
    expect(calls.filter((c) => c === 'http://x/1.jpg')).toHaveLength(3);
  });
});
