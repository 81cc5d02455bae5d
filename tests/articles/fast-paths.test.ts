/**
 * The ingest path's shortcuts give exactly what the general code gives. Each shortcut is held to a
 * reference: normalize-url for canonical URLs, the general date reader for RFC 1123 dates, the rule by
 * rule whitespace chains for normalisation, and fixed answers for sentence ends in two-byte text.
 */
import { describe, expect, it } from 'vitest';
import { stripBoilerplate } from '../../src/articles/boilerplate.js';
import { canonicalUrl, canonicalUrlReference, dedupKey } from '../../src/articles/canonical.js';
import { parseDate } from '../../src/articles/dates.js';
import { sentenceEnds } from '../../src/articles/summary.js';
import { collapseWhitespace, normalizeWhitespace } from '../../src/articles/text.js';

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

describe('canonicalUrl: the fast path agrees with normalize-url', () => {
  const protocols = ['https://', 'http://', 'HTTPS://', '//', '', 'ftp://'];
  const hosts = [
    'example.com', 'www.exemplo.com.br', 'EXAMPLE.com', 'example.com:443', 'example.com:8080', 'user:pw@example.com',
    '1.2.3.4', '1.2.3', 'ex.123', 'ex.0x1f', '0x7f.1', 'xn--caf-dma.com', 'xn--zz.com', 'café.com', '-ex.com', 'ex..com',
    'example.com.', 'localhost', 'a_b.com',
  ];
  const paths = [
    '', '/', '/a', '/a/', '/a//', '/a/b/', '//a', '/a/./b', '/a/../b', '/.well-known', '/a.', '/%7Efoo', '/pol%C3%ADtica/2026',
    '/pol%c3%adtica', '/%C3', '/%C3%28', '/%ED%A0%80', '/%C0%AF', '/%E2%82%AC', '/café', '/a b', '/a_b~c', "/a'b(c)*!$&+,;=@",
    '/a:b', '/a^b', '/a|b', '/a\\b', '/a"b', '/2026/11/noticia-1', '/a%2Fb',
  ];
  const queries = [
    '', '?', '?a=1', '?b=2&a=1', '?utm_source=rss&utm_medium=feed', '?p=123&utm_campaign=x', '?a=1&a=0', '?a=', '?a',
    '?a&b=1', '?=1', '?a=1&&b=2', '?a+b=1', '?a=b+c', '?a=%20', '?a=~', '?a=b/c', '?A=1&a=2', '?utm_=1', '?UTM_Source=x',
    '?fbclid=1&gclid=2&id=7', '?z=1&y=2&x=3', '?x=1&utm_source=a&x=0', "?a='",
  ];
  const fragments = ['', '#', '#x', '#:~:text=a', '#a b'];

  it('on a grid of protocols, hosts, paths, queries and fragments', () => {
    const rnd = random(1);
    const mismatches: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const url = pick(rnd, protocols) + pick(rnd, hosts) + pick(rnd, paths) + pick(rnd, queries) + pick(rnd, fragments);
      if (canonicalUrl(url) !== canonicalUrlReference(url)) mismatches.push(url);
    }
    expect(mismatches).toEqual([]);
  });

  it('on article links with random percent-escapes', () => {
    const rnd = random(2);
    const hex = '0123456789ABCDEF';
    const mismatches: string[] = [];
    for (let i = 0; i < 5000; i++) {
      let path = '';
      for (let s = 1 + Math.floor(rnd() * 3); s > 0; s--) {
        path += '/';
        for (let k = 1 + Math.floor(rnd() * 6); k > 0; k--) {
          const r = rnd();
          if (r < 0.5) path += `%${hex[8 + Math.floor(rnd() * 8)]}${pick(rnd, [...hex])}`;
          else if (r < 0.55) path += `%${hex[Math.floor(rnd() * 8)]}${pick(rnd, [...hex])}`;
          else path += pick(rnd, [...'abcXYZ09-._~']);
        }
      }
      const url = `https://ex.com${path}${rnd() < 0.3 ? '?b=1&utm_source=x&a=2' : ''}${rnd() < 0.2 ? '/' : ''}`;
      if (canonicalUrl(url) !== canonicalUrlReference(url)) mismatches.push(url);
    }
    expect(mismatches).toEqual([]);
  });

  it('strips tracking parameters and sorts the rest on the fast path', () => {
    const url = 'https://www.exemplo.com.br/politica/2026/11/noticia-1?utm_source=rss&utm_medium=feed&z=2&id=7';
    expect(canonicalUrl(url)).toBe('https://www.exemplo.com.br/politica/2026/11/noticia-1?id=7&z=2');
    expect(canonicalUrl('https://ex.com/?utm_source=x')).toBe('https://ex.com');
    expect(canonicalUrl('https://ex.com?p=1#top')).toBe('https://ex.com/?p=1');
    expect(canonicalUrl('https://ex.com/a/?b=1&a=2&b=0')).toBe('https://ex.com/a?a=2&b=1&b=0');
    expect(dedupKey({ guid: null, guidIsPermalink: null, link: url, title: null, summary: null })).toBe(`url:${canonicalUrl(url)}`);
  });

  it('reads shorthand IPv4 hosts as the URL parser does, as normalize-url does', () => {
    expect(canonicalUrl('https://1.2.3/a')).toBe('https://1.2.0.3/a');
    expect(canonicalUrl('https://0x7f.1/a')).toBe('https://127.0.0.1/a');
  });
});

describe('parseDate: RFC 1123 dates read directly agree with the general reader', () => {
  // A trailing comment is only understood by the general reader: comparing a date with and without one
  // compares the two paths on the same date.
  it('on valid and invalid fields, zones and default offsets', () => {
    const days = ['', 'Mon, ', 'Wed, ', 'Sun, ', 'sat, ', 'Foo, '];
    const dates = ['1', '01', '29', '31', '32', '0'];
    const months = ['Jan', 'feb', 'Feb', 'Jun', 'Nov', 'Set'];
    const years = ['2024', '2023', '1999', '0050', '9999', '24'];
    const times = ['12:00:00', '00:00:00', '23:59:59', '23:59:60', '24:00:00', '12:60:00', '9:00:00', '12:00'];
    const zones = ['GMT', 'UTC', 'UT', 'Z', '+0000', '-0300', '+2400', '+0060', '+2359', 'EST'];
    const rnd = random(3);
    const mismatches: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const text = `${pick(rnd, days)}${pick(rnd, dates)} ${pick(rnd, months)} ${pick(rnd, years)} ${pick(rnd, times)} ${pick(rnd, zones)}`;
      for (const defaultOffsetMinutes of [0, -180]) {
        const direct = parseDate(text, { defaultOffsetMinutes })?.toISOString() ?? null;
        const general = parseDate(`${text} (comment)`, { defaultOffsetMinutes })?.toISOString() ?? null;
        if (direct !== general) mismatches.push(`${text} @${defaultOffsetMinutes}: ${direct} vs ${general}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('reads the usual RSS date', () => {
    expect(parseDate('Wed, 25 Nov 2026 12:00:00 GMT')?.toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parseDate('Tue, 24 Sep 2018 19:42:40 -0300')?.toISOString()).toBe('2018-09-24T22:42:40.000Z');
    expect(parseDate('Wed, 31 Nov 2026 12:00:00 GMT')).toBeNull();
  });
});

describe('whitespace: one pass gives what the rule-by-rule chains give', () => {
  /** normalizeWhitespace as a chain of one replace per rule. */
  const normalizeReference = (text: string) =>
    text
      .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
      .replace(/[\u200B\u200C\u200D\u2060\uFEFF\u00AD]/g, '')
      .replace(/[ \t\f\v\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/g, ' ')
      .replace(/ \n ?|\n /g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  /** collapseWhitespace as invisible characters out, then every run to one space. */
  const collapseReference = (text: string) =>
    text.replace(/[\u200B\u200C\u200D\u2060\uFEFF\u00AD]/g, '').replace(/[\s\u0085]+/g, ' ').trim();

  const pieces = [
    ' ', ' ', '\n', '\n', '\r', '\r\n', '\t', '\f', '\v', '\u00a0', '\u200b', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u2028',
    '\u2029', '\u0085', '\u3000', '\u1680', '\u202f', 'a', 'b', '.', 'É', '😀',
  ];

  it('on random runs of every kind of whitespace', () => {
    const rnd = random(4);
    const mismatches: string[] = [];
    for (let i = 0; i < 20000; i++) {
      let text = '';
      for (let k = Math.floor(rnd() * 16); k > 0; k--) text += pick(rnd, pieces);
      if (normalizeWhitespace(text) !== normalizeReference(text)) mismatches.push(`normalize ${JSON.stringify(text)}`);
      if (collapseWhitespace(text) !== collapseReference(text)) mismatches.push(`collapse ${JSON.stringify(text)}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('is idempotent and leaves normalised text as it is', () => {
    const rnd = random(5);
    for (let i = 0; i < 2000; i++) {
      let text = '';
      for (let k = Math.floor(rnd() * 16); k > 0; k--) text += pick(rnd, pieces);
      const once = normalizeWhitespace(text);
      expect(normalizeWhitespace(once)).toBe(once);
    }
    const normalised = 'Um parágrafo.\n\nOutro, com uma linha\nquebrada.';
    expect(normalizeWhitespace(normalised)).toBe(normalised);
  });
});

describe('sentence ends in two-byte text (emoji, letters beyond the BMP)', () => {
  it.each([
    ['Ele viu o 𝐀. Depois saiu.', [13]],
    ['O Sr. Silva 😀 disse. Depois veio.', [21]],
    ['Chegou o dr. 𝐁𝐂. Então foi.', [18]],
    ['😀😀😀😀😀😀😀😀😀😀😀😀x. Y', [26]],
    [`${'a'.repeat(30)}. B`, [31]],
    ['O nº. 5 chegou.', []],
    ['Ação. Reação.', [5]],
    ['U.S. Army. Next', [10]],
  ] as const)('%s', (text, ends) => {
    expect(sentenceEnds(text)).toEqual(ends);
  });
});

describe('stripBoilerplate: rules chosen per line give what all the rules give', () => {
  const BODY = 'O governo anunciou nesta segunda-feira um pacote de medidas para o setor.';
  const NEXT = 'Segundo o ministro, o efeito vem já.';

  it('drops an award plug inside a paragraph, and keeps "melhor" in prose', () => {
    expect(stripBoilerplate(`${BODY} O 247 é o melhor canal de política do Brasil no voto popular. ${NEXT}`)).toBe(`${BODY} ${NEXT}`);
    const prose = `${BODY} Ele disse que o melhor caminho é o diálogo. ${NEXT}`;
    expect(stripBoilerplate(prose)).toBe(prose);
  });

  it('drops promotions that start with a bullet or an emoji inside a line', () => {
    expect(stripBoilerplate(`${BODY} ► Siga-nos no Instagram e no Telegram. ${NEXT}`)).toBe(`${BODY} ${NEXT}`);
    expect(stripBoilerplate('Notícia 😀 com emoji. Assine o 247 já. Fim da notícia aqui.')).toBe('Notícia 😀 com emoji. Fim da notícia aqui.');
  });

  it('keeps one blank line between the paragraphs left and none at the ends', () => {
    expect(stripBoilerplate(`Leia também: outra matéria\n\n${BODY}`)).toBe(BODY);
    expect(stripBoilerplate(`${BODY}\n\nPublicidade\n\n${NEXT}\n\nCompartilhe`)).toBe(`${BODY}\n\n${NEXT}`);
    expect(stripBoilerplate(`${BODY}\nPublicidade\n${NEXT}`)).toBe(`${BODY}\n${NEXT}`);
  });
});
