/**
 * Text handling is linear on hostile input: markup that never closes, runs of attributes, quotes and
 * punctuation cost about what a normal item of the same size costs, measured in the same run (a
 * ratio of medians, never an absolute time: the machine is shared).
 */
import { describe, expect, it } from 'vitest';
import { capHtml, DEFAULT_ITEM_HTML_MAX_BYTES, normalizeItemResult } from '../../src/articles/normalize.js';
import { htmlToText, inlineText } from '../../src/articles/text.js';
import { summarize } from '../../src/articles/summary.js';
import type { FeedItem } from '../../src/sources/types.js';

const SIZE = 120_000;

function repeatTo(unit: string, size = SIZE): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function item(html: string, title = 'Título normal de uma notícia'): FeedItem {
  return {
    guid: null, guidIsPermalink: null, link: 'https://www.jornal.example/noticia', title, summaryHtml: html, contentHtml: html,
    categories: [], authors: [], published: null, updated: null, image: null, enclosures: [],
  };
}

const ctx = { feedUrl: 'https://www.jornal.example/feed', summaryMaxChars: 300 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median time of `runs` runs of `fn`, in ms. */
function time(fn: () => void, runs = 5): number {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return median(out);
}

/** A normal item of the given size: paragraphs of prose with links, emphasis and images. */
function normalHtml(size = SIZE): string {
  return repeatTo(
    '<p>O governo anunciou nesta <a href="https://www.jornal.example/x?a=1&amp;b=2" class="link">segunda-feira</a> um ' +
      'pacote de <strong>medidas</strong> para conter a inflação, segundo <em>fontes</em> ouvidas pela reportagem.</p>' +
      '<figure><img src="https://img.jornal.example/a.jpg" alt="foto" width="600"><figcaption>Legenda</figcaption></figure>\n',
    size,
  );
}

const HOSTILE: Record<string, string> = {
  "'<img a' x N": repeatTo('<img a'),
  "'<a ' x N": repeatTo('<a '),
  "'<!--' x N": repeatTo('<!--'),
  "'<![CDATA[' x N": repeatTo('<![CDATA['),
  "'<!' x N": repeatTo('<!'),
  "'<script' x N": repeatTo('<script'),
  "'<script>' x N": repeatTo('<script>'),
  "'<figcaption>' x N": repeatTo('<figcaption>'),
  "'<' + ' ' x N": `<${' '.repeat(SIZE)}`,
  "'<p title=\"' x N": repeatTo('<p title="'),
  "'<p title=\"' x N + '>'": `${repeatTo('<p title="', SIZE - 1)}>`,
  "'<a \"' x N + '>'": `${repeatTo('<a "', SIZE - 1)}>`,
  "'<img ' + 'a' x N": `<img ${'a'.repeat(SIZE)}>`,
  "'<img ' + 'a ' x N": `<img ${repeatTo('a ')}>`,
  "'<img a=' x N": repeatTo('<img a='),
  "'<comércio ' x N": repeatTo('<comércio '),
  "'<x>' x N (not markup)": repeatTo('<x>'),
  "'<b' x N": repeatTo('<b'),
  "'&lt;a href=' x N": repeatTo('&lt;a href='),
  "'.' x N": repeatTo('.'),
  "'?!' x N": repeatTo('?!'),
  "' -' x N + 'x'": `${repeatTo(' -', SIZE - 1)}x`,
  "spaces x N": `a${' '.repeat(SIZE)}b`,
  "'http://' x N": repeatTo('http://'),
};

describe('normalisation is linear on hostile HTML', () => {
  // Warm up the code paths once so that the first measurement does not pay for compilation.
  normalizeItemResult(item(normalHtml()), ctx);

  for (const [name, html] of Object.entries(HOSTILE)) {
    it(`${name}: at most 5x a normal item of the same size`, () => {
      const normal = normalHtml(html.length);
      normalizeItemResult(item(html), ctx);
      const tNormal = time(() => normalizeItemResult(item(normal), ctx));
      const tHostile = time(() => normalizeItemResult(item(html), ctx));
      // 2 ms of slack: both can be near zero, where the ratio is noise.
      expect(tHostile, `hostile ${tHostile.toFixed(1)} ms vs normal ${tNormal.toFixed(1)} ms`).toBeLessThanOrEqual(5 * tNormal + 2);
    });
  }

  it('titles and summaries are linear too', () => {
    const normal = normalHtml();
    const tNormal = time(() => {
      inlineText(normal);
      summarize(htmlToText(normal), 3000);
    });
    for (const [name, html] of Object.entries(HOSTILE)) {
      const tHostile = time(() => {
        inlineText(html);
        summarize(htmlToText(html), 3000);
      });
      expect(tHostile, `${name}: hostile ${tHostile.toFixed(1)} ms vs normal ${tNormal.toFixed(1)} ms`).toBeLessThanOrEqual(5 * tNormal + 5);
    }
  });
});

describe('item HTML is capped before text extraction', () => {
  it('cuts at the byte limit, on a character boundary', () => {
    expect(DEFAULT_ITEM_HTML_MAX_BYTES).toBe(256 * 1024);
    expect(capHtml('abc', 1024)).toBe('abc');
    const big = 'é'.repeat(2000); // 2 bytes each
    expect(capHtml(big, 1025)).toBe('é'.repeat(512));
    expect(capHtml('😀'.repeat(1000), 1026)).toBe('😀'.repeat(256));
  });

  it('reads no text past ITEM_HTML_MAX_BYTES', () => {
    const html = `<p>${'a '.repeat(2000)}</p><p>FIM</p>`;
    const cut = normalizeItemResult(item(html), { ...ctx, itemHtmlMaxBytes: 2048 });
    const full = normalizeItemResult(item(html), { ...ctx, itemHtmlMaxBytes: 1 << 20 });
    expect(cut.ok && full.ok).toBe(true);
    if (cut.ok && full.ok) {
      expect(cut.article.body).not.toContain('FIM');
      expect(full.article.body).toContain('FIM');
    }
  });
});
