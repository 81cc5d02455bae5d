/**
 * The renderer's shortcuts change nothing a template or a caller can see: the measure of plain Telegram
 * HTML agrees with its tokens, the fields of `it.article` computed on first read hold what they always
 * held (and can be copied and assigned like any other), and hashtags are the same however often asked.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { createRenderer } from '../../src/render/renderer.js';
import { measureTelegramHtml, telegramTextLength, tokenizeTelegramHtml, validateTelegramHtml } from '../../src/render/telegram-html.js';

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

describe('measureTelegramHtml', () => {
  /** The length from the tokens: what the full pass counts for valid HTML. */
  const tokenLength = (html: string) =>
    tokenizeTelegramHtml(html).reduce((n, t) => n + (t.type === 'text' ? t.text.length : 0), 0);

  it('measures generated valid HTML as its tokens do', () => {
    const rnd = random(11);
    const words = ['Notícia', 'a', ' ', '\n', '&amp;', '&lt;', '&gt;', '&quot;', '😀', 'é', '&#233;', '"', "'"];
    const tags = ['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del'];
    for (let i = 0; i < 3000; i++) {
      let html = '';
      const open: string[] = [];
      for (let k = Math.floor(rnd() * 20); k > 0; k--) {
        const r = rnd();
        if (r < 0.15 && open.length < 4) {
          const link = !open.includes('a') && rnd() < 0.3;
          html += link ? '<a href="https://ex.com/a?b=1">' : `<${tags[Math.floor(rnd() * tags.length)]}>`;
          open.push(link ? 'a' : html.slice(html.lastIndexOf('<') + 1, -1));
        } else if (r < 0.3 && open.length > 0) {
          html += `</${open.pop()}>`;
        } else {
          html += words[Math.floor(rnd() * words.length)];
        }
      }
      while (open.length > 0) html += `</${open.pop()}>`;
      expect(measureTelegramHtml(html), html).toEqual({ error: null, length: tokenLength(html) });
      expect(telegramTextLength(html)).toBe(tokenLength(html));
    }
  });

  it.each([
    ['a link inside a link', '<a href="https://a.b">x<a href="https://c.d">y</a></a>', /cannot be inside <a>/],
    ['an empty href', '<a href=" ">x</a>', /non-empty href/],
    ['a tag never closed', '<b>x', /never closed/],
    ['tags closed out of order', '<b><i>x</b></i>', /closes <i>/],
    ['a bare >', 'a > b', /bare ">"/],
    ['an unknown entity', 'a &nbsp; b', /unsupported entity/],
    ['a lone surrogate', 'a \ud800 b', /lone UTF-16 surrogate/],
  ])('still reports %s', (_name, html, error) => {
    expect(measureTelegramHtml(html).error).toMatch(error);
    expect(validateTelegramHtml(html).ok).toBe(false);
  });

  it('reads what the plain form does not cover through the full pass', () => {
    expect(measureTelegramHtml('<B>x</B> <a href="https://a.b/?x=1&amp;y=2">y</a> &#233; <code>z</code>')).toEqual({ error: null, length: 7 });
  });
});

describe('renderer: fields computed on first read', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function rendererWith(telegram: string) {
    const dir = mkdtempSync(path.join(tmpdir(), 'manchete-fast-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries({
      'locales/en.json': '{"readMore":"Read more"}',
      'locales/pt-BR.json': '{"readMore":"Leia mais"}',
      'telegram/article.eta': telegram,
      'whatsapp/article.eta': '<%= it.article.title %>',
    })) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    return createRenderer({ templatesDir: dir, defaultLocale: 'pt-BR', timeZone: 'America/Sao_Paulo' });
  }

  const article: Article = {
    id: 'a1',
    url: 'https://www.example.com.br/a',
    title: 'Título',
    lead: 'Lead.',
    body: 'Corpo\u0007 do texto.',
    section: 'Coreia do Norte',
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: new Date('2018-09-24T22:42:40Z'),
    updatedAt: new Date('2018-09-25T01:02:03Z'),
    feedUrl: null,
  };

  it('hold the body and the dates', () => {
    const r = rendererWith(
      '<%= it.article.body %>|<%= it.article.publishedAt %>|<%= it.article.publishedDate %>|<%= it.article.publishedTime %>|<%= it.article.publishedAtIso %>|<%= it.article.updatedAt %>|<%= it.article.updatedAtIso %>',
    );
    const date = (options: Intl.DateTimeFormatOptions, d: Date) =>
      new Intl.DateTimeFormat('pt-BR', { ...options, timeZone: 'America/Sao_Paulo' }).format(d);
    expect(r.render(article, 'telegram', { photo: false })[0]!.text).toBe(
      [
        'Corpo do texto.',
        date({ dateStyle: 'medium', timeStyle: 'short' }, article.publishedAt!),
        date({ dateStyle: 'short' }, article.publishedAt!),
        date({ timeStyle: 'short' }, article.publishedAt!),
        '2018-09-24T22:42:40.000Z',
        date({ dateStyle: 'medium', timeStyle: 'short' }, article.updatedAt!),
        '2018-09-25T01:02:03.000Z',
      ].join('|'),
    );
  });

  it('are null without a date, copy with the rest of the view, and take assignments', () => {
    const r = rendererWith(
      '<% const copy = { ...it.article } %><%= copy.publishedAt === null && copy.publishedAtIso === null ? "none" : "some" %> <%= Object.keys(copy).join(",") %> <% it.article.body = "novo" %><%= it.article.body %> <% it.article.publishedAt = "ontem" %><%= it.article.publishedAt %>',
    );
    expect(r.render({ ...article, publishedAt: null, updatedAt: null }, 'telegram', { photo: false })[0]!.text).toBe(
      'none id,url,title,lead,body,section,tags,imageUrl,imageCaption,imageCredit,author,feedUrl,publishedAt,publishedDate,publishedTime,publishedAtIso,updatedAt,updatedAtIso novo ontem',
    );
  });

  it('make the same hashtag each time, in each locale', () => {
    const r = rendererWith('<%= it.hashtag(it.article.section) %>');
    const en = rendererWith('<%= it.hashtag(it.article.section) %>');
    for (let i = 0; i < 3; i++) {
      expect(r.render(article, 'telegram', { photo: false })[0]!.text).toBe('#CoreiaDoNorte');
      expect(en.render(article, 'telegram', { photo: false, locale: 'en' })[0]!.text).toBe('#CoreiaDoNorte');
      expect(r.render({ ...article, section: 'ínterior paulista' }, 'telegram', { photo: false })[0]!.text).toBe('#ÍnteriorPaulista');
    }
  });
});
