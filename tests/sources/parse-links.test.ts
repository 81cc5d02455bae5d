/**
 * Absolute links come out of parseFeed exactly as the URL parser writes them, whether they took the
 * shortcut for links already in that form or went through `new URL`.
 */
import { describe, expect, it } from 'vitest';
import { parseFeed } from '../../src/sources/parse.js';

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** What the URL parser makes of an absolute address, or the address itself when it refuses it. */
function parsed(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

describe('parseFeed: absolute links', () => {
  it('are written as the URL parser writes them', () => {
    const rnd = random(9);
    const hosts = ['ex.com', 'www.jornal.com.br', 'a-b.c-d.org', 'EX.com', '1.2.3', '1.2.3.4', 'ex.123', 'xn--caf-dma.com', 'ex.com:443', 'ex.com:8080'];
    // Mostly characters the parser leaves alone (the shortcut's ground), some it rewrites or refuses.
    const plain = [..."abcXYZ019-._~!$&'()*+,;=:@/%?#"];
    const odd = [...'[]^|`{}\\"<>é', '%2e', '%2E', '/..', '/./', '😀', ' '];
    const links: string[] = [];
    for (let i = 0; i < 2000; i++) {
      let tail = '';
      for (let k = Math.floor(rnd() * 12); k > 0; k--) {
        const from = rnd() < 0.9 ? plain : odd;
        tail += from[Math.floor(rnd() * from.length)];
      }
      const scheme = rnd() < 0.5 ? 'https://' : 'http://';
      links.push(`${scheme}${hosts[Math.floor(rnd() * hosts.length)]}${rnd() < 0.9 ? '/' : ''}${tail}`);
    }
    const items = links
      .map(
        (link, i) =>
          `<item><title>Item ${i}</title><link>${xmlEscape(link)}</link><media:content url="${xmlEscape(link).replace(/"/g, '&quot;')}" medium="image"/></item>`,
      )
      .join('\n');
    const xml = `<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>${items}</channel></rss>`;
    const feed = parseFeed(xml, 'https://jornal.example/feed/');
    expect(feed.items.map((item) => item.link)).toEqual(links.map(parsed));
    expect(feed.items.map((item) => item.image?.url)).toEqual(links.map(parsed));
  });

  it('already in the parser\'s form are kept as they are', () => {
    const link = 'https://www.jornal.com.br/mundo/2026/11/kim-visita-putin?id=7&utm_source=rss#comentarios';
    const feed = parseFeed(
      `<rss version="2.0"><channel><title>T</title><item><title>A</title><link>${xmlEscape(link)}</link></item></channel></rss>`,
      'https://jornal.example/feed/',
    );
    expect(feed.items[0]!.link).toBe(link);
  });
});
