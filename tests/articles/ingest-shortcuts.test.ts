/**
 * More shortcuts of the ingest path, each held to the general code it stands in for: the folding of
 * leads and titles (a per-character table against lower case + NFD + regexes), the check that skips
 * the URL parser for plain http(s) links, and the link check of rendered Telegram HTML that needs no
 * tokens.
 */
import { describe, expect, it } from 'vitest';
import { httpUrl, isPlainHttpUrl } from '../../src/articles/canonical.js';
import { fold, foldReference } from '../../src/articles/normalize.js';
import { htmlToText } from '../../src/articles/text.js';
import { dropUnsafeLinks } from '../../src/render/links.js';
import { tagUrl } from '../../src/render/utm.js';

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}
const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

describe('fold: the character table agrees with the definition', () => {
  const pieces = [
    'a', 'Z', 'é', 'É', 'ç', 'Ç', 'ã', 'õ', 'ß', 'ẞ', 'İ', 'ı', 'Σ', 'σ', 'ς', 'ΑΣ', 'ΑΣ.Β', 'e\u0301', 'E\u0301\u0327',
    'a\u0483', '\u0301', 'ﬁ', 'K', 'Å', 'Ω', 'Ⅻ', '²', '½', 'ª', 'º', 'µ', '한', '\u1100\u1161', 'Ǆ', 'ǅ', 'ǖ', 'ḯ',
    ' ', '  ', '\n', '\u00a0', '-', '–', '—', '“', '”', '…', '!', '?', ',', '.', ':', "'", '’', '(', ')', '1', '2026',
    '✅', '😀', '\ud83d', '\ude00', '𝐀', '\u200b', '\u00ad', '\ufeff', '\ufe0f', 'ǰ', 'ŉ', 'Ⓐ', '٣', 'ä', 'Äpfel',
    'Notícia', 'governo', 'R$', '10,5', '&amp;',
  ];

  it('on random strings of letters, accents, marks, punctuation and emoji', () => {
    const rnd = random(7);
    for (let n = 0; n < 5000; n++) {
      let s = '';
      const len = Math.floor(rnd() * 12);
      for (let i = 0; i < len; i++) s += pick(rnd, pieces);
      expect(fold(s), JSON.stringify(s)).toBe(foldReference(s));
    }
  });

  it('on every BMP character alone and between letters', () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      expect(fold(ch)).toBe(foldReference(ch));
      expect(fold(`Ab${ch}cD`)).toBe(foldReference(`Ab${ch}cD`));
    }
  });
});

describe('httpUrl: plain links skip the parser and get the same answer', () => {
  const protocols = ['https://', 'http://', 'HTTP://', 'ftp://', 'javascript:', ''];
  const hosts = [
    'example.com', 'www.exemplo.com.br', 'EXAMPLE.com', 'example.com:443', 'example.com:99999', 'user:pw@example.com', '1.2.3.4',
    '1.2.3.999', 'ex.0x1f', 'ex.0X1F', '0x', 'xn--caf-dma.com', 'xn--zz.com', 'café.com', '-ex-.com', 'ex..com', 'example.com.',
    'localhost', 'a_b.com', '', '[::1]', 'a%41.com', 'a b.com',
  ];
  const rests = ['', '/', '/a b', '/a\tb', '/a\nb', '?q=1', '#x', '\\path', '/%zz', '/\ud800', '/ç', ':80/', '?a=<b>', '#\u0000'];

  it('on a grid of protocols, hosts and what follows', () => {
    const reference = (v: string): string | null => {
      const t = v.trim();
      try {
        const u = new URL(t);
        if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return null;
        return /[\t\n\r]/.test(t) ? u.href : t;
      } catch {
        return null;
      }
    };
    for (const p of protocols)
      for (const h of hosts)
        for (const r of rests) {
          const url = `${p}${h}${r}`;
          if (isPlainHttpUrl(url)) expect(() => new URL(url), url).not.toThrow();
          if (!/^[a-z][a-z0-9+.-]*:/i.test(url.replace(/[\t\n\r]/g, ''))) continue;
          expect(httpUrl(url), url).toBe(reference(url));
        }
  });

  it('tags only what the parser accepts, plain or not', () => {
    expect(tagUrl('https://ex.example/a', 'telegram')).toBe('https://ex.example/a?utm_source=telegram&utm_medium=social&utm_campaign=manchete');
    expect(tagUrl('https://1.2.3.999/a', 'telegram')).toBe('https://1.2.3.999/a');
    expect(tagUrl('https://ex.example:99999/a', 'telegram')).toBe('https://ex.example:99999/a');
    expect(tagUrl('https://EX.example/a?b=1&utm_source=x#f', 'whatsapp')).toBe(
      'https://EX.example/a?b=1&utm_source=whatsapp&utm_medium=social&utm_campaign=manchete#f',
    );
    expect(tagUrl('https://ex.example/a', 'telegram', { source: '', medium: '', campaign: '' })).toBe('https://ex.example/a?');
    expect(tagUrl('https://ex.example/a?b=1', 'telegram', { source: '', medium: '', campaign: '' })).toBe('https://ex.example/a?b=1');
  });
});

describe('dropUnsafeLinks: templates\' links are checked without tokens, with the same result', () => {
  it('keeps safe links as they are and still unwraps unsafe ones', () => {
    const safe = '<b>T</b>\n<a href="https://ex.example/a?x=1">Leia</a> <a href="http://ex.example/b">b</a>';
    expect(dropUnsafeLinks(safe)).toBe(safe);
    expect(dropUnsafeLinks('<a href="https://ex.example/a">ok</a> <a href="javascript:alert(1)">x</a>')).toBe(
      '<a href="https://ex.example/a">ok</a> x',
    );
    expect(dropUnsafeLinks('<a href="https://ex.example/a">ok</a> <A HREF="tg://x">y</A>')).toBe('<a href="https://ex.example/a">ok</a> y');
    expect(dropUnsafeLinks('<a href="/relative">r</a>')).toBe('r');
    expect(dropUnsafeLinks('<a href="java&#x73;cript:x">r</a>')).toBe('r');
    expect(dropUnsafeLinks('<a  href="javascript:x">r</a>')).toBe('r');
    expect(dropUnsafeLinks('<a href="https://ex.example/a" >ok</a>')).toBe('<a href="https://ex.example/a" >ok</a>');
  });
});

describe('htmlToText: references decoded between the tags give what decoding after them gives', () => {
  it('joins the text around tags that leave nothing, and keeps escaped markup as text', () => {
    expect(htmlToText('&am<b>p;')).toBe('&');
    expect(htmlToText('<p>&am</p><p>p;</p>')).toBe('&am\n\np;');
    expect(htmlToText('<p>a &lt;b&gt; c</p><p>R&amp;D&nbsp;x</p>')).toBe('a <b> c\n\nR&D x');
    expect(htmlToText('x&#3<i>3</i>;y<br>&eacute;')).toBe('x!y\né');
  });
});
