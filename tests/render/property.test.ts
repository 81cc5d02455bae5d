import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { escapeHtml } from '../../src/render/escape.js';
import {
  splitTelegramHtml,
  TELEGRAM_CAPTION_LIMIT,
  TELEGRAM_TEXT_LIMIT,
  WHATSAPP_CAPTION_LIMIT,
  WHATSAPP_TEXT_LIMIT,
} from '../../src/render/fit.js';
import { createRenderer } from '../../src/render/renderer.js';
import { htmlToPlain, telegramTextLength, validateTelegramHtml } from '../../src/render/telegram-html.js';

/**
 * Generated-input tests: hostile titles and leads from a seeded PRNG (so a failure reproduces) must
 * always give Telegram HTML that validates and fits, and WhatsApp text that fits.
 */

/** mulberry32: small, fast, good enough for test data. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T,>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

const PIECES = [
  '<', '>', '&', '"', "'", '<script>alert(1)</script>', '</b>', '<b>', '&amp;', '&lt;', '&#x1F600;', '&nbsp;',
  '😀', '👨‍👩‍👧', '🇧🇷', '👋🏽', '❤️', 'e\u0301', '\u0301', '\u200F', '\u200E', '\u202E', '\u2067', 'שלום', 'مرحبا',
  '*', '_', '~', '`', '```', '> ', '\n', '\n\n', '\n\n\n', ' ', '  ', '\t', '\u00a0', '\u0000', '\u0007', '\uD800', '\uDC00',
  'https://example.com/a_b?c=1&d="2"#frag', 'http://x.y/<z>', 'www.site.com.br',
  'Política', 'São Paulo', 'notícia', 'ação', 'Lula', 'STF', 'R$ 1,5 bi', '10%', 'Fla x Flu', 'Copa',
  '.', '!', '?', '…', ',', ';', ':', '(', ')', '"citação"', '«', '»',
];

function word(rng: Rng, max: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzáéíóúãõçABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const len = rng.int(1, max);
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return s;
}

function text(rng: Rng, pieces: number): string {
  let s = '';
  for (let i = 0; i < pieces; i++) {
    const r = rng.next();
    if (r < 0.45) s += rng.pick(PIECES);
    else if (r < 0.9) s += `${word(rng, 12)} `;
    else if (r < 0.98) s += rng.pick(['😀', 'ç', '&', '<']).repeat(rng.int(1, 40));
    else s += word(rng, 6000); // a long word
  }
  return s;
}

function randomArticle(rng: Rng, n: number): Article {
  const huge = rng.next() < 0.06;
  return {
    id: `gen-${n}`,
    url: rng.pick([
      'https://www.example.com.br/noticia?id=1&utm=x',
      'https://example.com/a_b/"quoted"/<angle>?q=1&r=2',
      `https://example.com/${word(rng, 30)}`,
      'https://example.com/ação/notícia',
    ]),
    title: rng.next() < 0.1 ? word(rng, 1) + word(rng, 6000) : text(rng, rng.int(0, 25)),
    lead: huge ? text(rng, 400) + word(rng, 2).repeat(8000) : text(rng, rng.int(0, 120)),
    body: '',
    section: rng.next() < 0.3 ? null : text(rng, rng.int(0, 4)),
    tags: [],
    imageUrl: rng.next() < 0.5 ? 'https://img.example.com/foto.jpg?w=1200&h="800"' : null,
    imageCaption: null,
    imageCredit: null,
    author: rng.next() < 0.5 ? text(rng, 3) : null,
    publishedAt: rng.next() < 0.2 ? null : new Date(Date.UTC(2024, 0, 1) + rng.int(0, 1e10)),
    updatedAt: null,
    feedUrl: null,
  };
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const renderer = createRenderer({
  templatesDir: path.join(repoRoot, 'templates'),
  defaultLocale: 'pt-BR',
  timeZone: 'America/Sao_Paulo',
});
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('generated input', () => {
  it('600 random articles: every Telegram message validates and fits; every WhatsApp message fits', () => {
    const rng = prng(20240917);
    let photos = 0;
    let splits = 0;
    for (let n = 0; n < 600; n++) {
      const a = randomArticle(rng, n);
      const photo = rng.next() < 0.7;
      const locale = rng.pick(['pt-BR', 'en']);
      const both = renderer.renderBoth(a, { telegram: { photo, locale }, whatsapp: { photo, locale } });
      const ctx = `article ${n}: ${JSON.stringify(a.title.slice(0, 80))}`;

      expect(both.telegram.length, ctx).toBeGreaterThan(0);
      if (both.telegram.length > 1) splits++;
      for (const m of both.telegram) {
        expect(validateTelegramHtml(m.text), ctx).toEqual({ ok: true });
        const len = telegramTextLength(m.text);
        expect(htmlToPlain(m.text).trim(), ctx).not.toBe('');
        if (m.kind === 'photo') {
          photos++;
          expect(len, ctx).toBeLessThanOrEqual(TELEGRAM_CAPTION_LIMIT);
          expect(m.imageUrl, ctx).toBe(a.imageUrl);
        } else {
          expect(m.kind, ctx).toBe('text');
          expect(len, ctx).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
        }
      }
      // The link survives: the last part ends with the "read more" link to the article.
      expect(both.telegram.at(-1)!.text, ctx).toMatch(/<a href="[^"]+">(Leia mais|Read more)<\/a>$/);

      expect(both.whatsapp.length, ctx).toBeGreaterThan(0);
      for (const m of both.whatsapp) {
        expect(m.text.trim(), ctx).not.toBe('');
        expect(LONE.test(m.text), ctx).toBe(false);
        expect(m.text.length, ctx).toBeLessThanOrEqual(m.kind === 'image' ? WHATSAPP_CAPTION_LIMIT : WHATSAPP_TEXT_LIMIT);
        if (m.kind === 'image') expect(photo, ctx).toBe(true);
      }
      // The title cannot open or close bold: the only asterisks are the template's two.
      if (both.whatsapp.length === 1) {
        expect(both.whatsapp[0]!.text.split('*').length - 1, ctx).toBe(2);
      }
    }
    // The generator really exercised both paths.
    expect(photos).toBeGreaterThan(50);
    expect(splits).toBeGreaterThan(20);
  });

  it('500 random HTML documents split at random limits keep their text and stay valid', () => {
    const rng = prng(7);
    const tags = ['b', 'i', 'u', 's', 'tg-spoiler', 'blockquote', 'code'];
    for (let n = 0; n < 500; n++) {
      let html = '';
      for (let k = rng.int(1, 8); k > 0; k--) {
        const body = escapeHtml(text(rng, rng.int(1, 60)));
        const r = rng.next();
        if (r < 0.4) html += body;
        else if (r < 0.55) html += `<a href="${escapeHtml(`https://x.y/?a=${n}&b="${k}"`)}">${body}</a>`;
        else if (r < 0.65) html += `<pre><code class="language-ts">${body}</code></pre>`;
        else {
          const outer = rng.pick(tags.filter((t) => t !== 'code'));
          const inner = rng.pick(tags.filter((t) => t !== 'blockquote' && t !== 'code' && t !== outer));
          html += `<${outer}>${body}<${inner}>${body}</${inner}></${outer}>`;
        }
        html += rng.pick(['', ' ', '\n', '\n\n']);
      }
      expect(validateTelegramHtml(html), `doc ${n}`).toEqual({ ok: true });
      const limit = rng.int(20, 1500);
      const parts = splitTelegramHtml(html, limit);
      const ctx = `doc ${n}, limit ${limit}`;
      for (const p of parts) {
        expect(validateTelegramHtml(p), ctx).toEqual({ ok: true });
        expect(telegramTextLength(p), ctx).toBeLessThanOrEqual(limit);
        expect(htmlToPlain(p).trim(), ctx).not.toBe('');
      }
      const squash = (s: string) => htmlToPlain(s.replace(/<a [^>]*>|<\/a>/g, '')).replace(/\s+/g, '');
      expect(parts.map(squash).join(''), ctx).toBe(squash(html));
    }
  });
});
