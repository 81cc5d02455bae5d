import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { TemplateError } from '../../src/render/engine.js';
import { createRenderer } from '../../src/render/renderer.js';
import { telegramTextLength, validateTelegramHtml } from '../../src/render/telegram-html.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const templatesDir = path.join(repoRoot, 'templates');
const renderer = createRenderer({ templatesDir, defaultLocale: 'pt-BR', timeZone: 'America/Sao_Paulo', utmTags: false }); // links as written: UTM tags are pinned in utm.test.ts

function article(over: Partial<Article> = {}): Article {
  return {
    id: 'a1',
    url: 'https://www.example.com.br/mundo/2018/09/kim-diz-que-esta-pronto',
    title: 'Kim Jong-un diz que está pronto para desnuclearizar a península',
    lead: 'O líder da Coreia do Norte afirmou nesta segunda-feira que quer acelerar as conversas com Seul e Washington.',
    body: '',
    section: 'Mundo',
    tags: ['Coreia do Norte'],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: new Date('2018-09-24T22:42:40Z'),
    updatedAt: null,
    feedUrl: 'https://www.example.com.br/feed',
    ...over,
  };
}

const tmpDirs: string[] = [];
/** A templates folder of our own: { 'telegram/article.eta': '…', 'locales/en.json': '…' }. */
function templatesWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'manchete-templates-'));
  tmpDirs.push(dir);
  const all: Record<string, string> = { 'locales/en.json': '{"readMore":"Read more"}', ...files };
  for (const [name, text] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('the bundled article templates', () => {
  it('render a Telegram post: hashtag, bold title, lead, "Leia mais" link', () => {
    const [msg, ...rest] = renderer.render(article(), 'telegram');
    expect(rest).toEqual([]);
    expect(msg!.kind).toBe('text');
    expect(msg!.text).toBe(
      '#Mundo\n<b>Kim Jong-un diz que está pronto para desnuclearizar a península</b>\n\n' +
        'O líder da Coreia do Norte afirmou nesta segunda-feira que quer acelerar as conversas com Seul e Washington.\n\n' +
        '🔗 <a href="https://www.example.com.br/mundo/2018/09/kim-diz-que-esta-pronto">Leia mais</a>',
    );
    expect(msg!.previewUrl).toBe('https://www.example.com.br/mundo/2018/09/kim-diz-que-esta-pronto');
  });

  it('render a WhatsApp post: italic section, bold title, lead, link on its own line', () => {
    const [msg] = renderer.render(article(), 'whatsapp');
    expect(msg!.kind).toBe('text');
    expect(msg!.text).toBe(
      '_Mundo_\n*Kim Jong-un diz que está pronto para desnuclearizar a península*\n\n' +
        'O líder da Coreia do Norte afirmou nesta segunda-feira que quer acelerar as conversas com Seul e Washington.\n\n' +
        '🔗 Leia mais:\nhttps://www.example.com.br/mundo/2018/09/kim-diz-que-esta-pronto',
    );
    expect(msg!.previewUrl).toBe(article().url);
    expect(msg!.preview).toEqual({ title: article().title, description: article().lead });
  });

  it('speak English when asked', () => {
    expect(renderer.render(article(), 'telegram', { locale: 'en' })[0]!.text).toContain('>Read more</a>');
    expect(renderer.render(article(), 'whatsapp', { locale: 'en' })[0]!.text).toContain('🔗 Read more:\nhttps://');
  });

  it('leave out the section line when there is no section', () => {
    const tg = renderer.render(article({ section: null, lead: '' }), 'telegram')[0]!.text;
    expect(tg.startsWith('<b>Kim')).toBe(true);
    expect(tg).not.toContain('\n\n\n');
    expect(renderer.render(article({ section: '   ' }), 'whatsapp')[0]!.text.startsWith('*Kim')).toBe(true);
  });

  it('send a photo on Telegram when the caption fits, text with the image as preview when not', () => {
    const img = 'https://img.example.com.br/kim.jpg';
    expect(renderer.render(article({ imageUrl: img }), 'telegram')).toEqual([
      expect.objectContaining({ kind: 'photo', imageUrl: img }),
    ]);
    const long = renderer.render(article({ imageUrl: img, lead: 'Palavra longa. '.repeat(80) }), 'telegram');
    expect(long).toEqual([expect.objectContaining({ kind: 'text', previewUrl: img })]);
    expect(telegramTextLength(long[0]!.text)).toBeGreaterThan(1024);
    expect(renderer.render(article({ imageUrl: img }), 'telegram', { photo: false })[0]!.kind).toBe('text');
  });

  it('send an image on WhatsApp only when the destination asks for it', () => {
    const img = 'https://img.example.com.br/kim.jpg';
    expect(renderer.render(article({ imageUrl: img }), 'whatsapp')[0]!.kind).toBe('text');
    expect(renderer.render(article({ imageUrl: img }), 'whatsapp', { photo: true })[0]).toEqual(
      expect.objectContaining({ kind: 'image', imageUrl: img }),
    );
  });

  it('escape hostile titles and URLs', () => {
    const a = article({
      title: '<script>alert("x")</script> & *negrito* _itálico_',
      section: 'Política & <Economia>',
      url: 'https://x.example/?q="a"&b=1',
    });
    const tg = renderer.render(a, 'telegram')[0]!.text;
    expect(validateTelegramHtml(tg)).toEqual({ ok: true });
    expect(tg).toContain('<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; *negrito* _itálico_</b>');
    expect(tg).toContain('href="https://x.example/?q=&quot;a&quot;&amp;b=1"');
    expect(tg.startsWith('#PolíticaEconomia\n')).toBe(true);
    const wa = renderer.render(a, 'whatsapp')[0]!.text;
    expect(wa).toContain('*<script>alert("x")</script> & ∗negrito∗ ˍitálicoˍ*');
  });

  it('render both platforms at once', () => {
    const both = renderer.renderBoth(article(), { whatsapp: { locale: 'en' } });
    expect(both.telegram[0]!.text).toContain('Leia mais');
    expect(both.whatsapp[0]!.text).toContain('Read more');
  });

  it('render a digest of headlines, and an empty one', () => {
    const tg = renderer.renderDigest([article(), article({ title: 'Outra & mais', section: null })], 'telegram');
    expect(tg).toHaveLength(1);
    expect(tg[0]!.text).toBe(
      '<b>Últimas notícias</b>\n\n' +
        `• <a href="${article().url}">${article().title}</a> <i>(Mundo)</i>\n` +
        `• <a href="${article().url}">Outra &amp; mais</a>`,
    );
    expect(renderer.renderDigest([], 'whatsapp', { locale: 'en' })[0]!.text).toBe('*Latest news*\n\nNo news yet.');
  });

  it('compile without errors at start', () => {
    expect(() => renderer.preload()).not.toThrow();
  });
});

describe('template variables and helpers', () => {
  const dir = templatesWith({
    'locales/pt-BR.json': '{"readMore":"Leia mais"}',
    'telegram/vars.eta':
      '<%= it.article.publishedAt %>|<%= it.article.publishedDate %>|<%= it.article.publishedTime %>|' +
      '<%= it.article.publishedAtIso %>|<%= it.article.updatedAt %>|<%= it.hashtag(it.article.section) %>|' +
      '<%= it.upper(it.article.section) %>|<%= it.destination.template %>|<%= it.destination.photo %>|<%= it.locale %>',
    'telegram/partial-user.eta': '<%~ include("/partials/line", { label: it.t.readMore }) %>',
    'telegram/partials/line.eta': '<i><%= it.label %></i> <%= it.article.title %>',
    'telegram/reply.eta': '<%= it.format(it.t.hello, { name: it.name }) %>',
  });
  const r = createRenderer({ templatesDir: dir, defaultLocale: 'pt-BR', timeZone: 'America/Sao_Paulo' });

  it('dates are formatted in the locale and the time zone', () => {
    const a = article({ section: 'Coreia do Norte', updatedAt: new Date('invalid') });
    const text = r.render(a, 'telegram', { template: 'vars', photo: false })[0]!.text;
    const [dateTime, date, time, iso, updated, tag, upper, template, photo, locale] = text.split('|');
    expect(dateTime).toMatch(/24 de set\.? de 2018.*19:42/);
    expect(date).toBe('24/09/2018');
    expect(time).toBe('19:42');
    expect(iso).toBe('2018-09-24T22:42:40.000Z');
    expect(updated).toBe(''); // an invalid date renders as nothing, never "now"
    expect(tag).toBe('#CoreiaDoNorte');
    expect(upper).toBe('COREIA DO NORTE');
    expect([template, photo, locale]).toEqual(['vars', 'false', 'pt-BR']);
    const en = r.render(a, 'telegram', { template: 'vars', locale: 'en' })[0]!.text;
    expect(en.split('|')[0]).toMatch(/Sep 24, 2018.*7:42\sPM/);
  });

  it('partials are included with include()', () => {
    expect(r.render(article(), 'telegram', { template: 'partial-user' })[0]!.text).toBe(
      `<i>Leia mais</i> ${article().title}`,
    );
  });

  it('renderString renders any template with the caller’s data, escaped', () => {
    const dir2 = templatesWith({ 'locales/en.json': '{"hello":"Hello, {name}!"}', 'telegram/reply.eta': '<%= it.format(it.t.hello, { name: it.name }) %>' });
    const r2 = createRenderer({ templatesDir: dir2, defaultLocale: 'en', timeZone: 'UTC' });
    expect(r2.renderString('telegram', 'reply', { name: '<Ana & Bia>' })).toBe('Hello, &lt;Ana &amp; Bia&gt;!');
  });

  it('templates are read once: editing a file does not change a running renderer', () => {
    const d = templatesWith({ 'telegram/article.eta': 'one <%= it.article.id %>' });
    const r3 = createRenderer({ templatesDir: d, defaultLocale: 'en', timeZone: 'UTC' });
    expect(r3.render(article(), 'telegram')[0]!.text).toBe('one a1');
    writeFileSync(path.join(d, 'telegram/article.eta'), 'two');
    expect(r3.render(article(), 'telegram')[0]!.text).toBe('one a1');
  });
});

describe('template errors name the file', () => {
  it('a missing template', () => {
    const err = (() => {
      try {
        renderer.render(article(), 'telegram', { template: 'nope' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).template).toBe('telegram/nope');
    expect((err as TemplateError).message).toContain(path.join(templatesDir, 'telegram', 'nope.eta'));
    expect((err as TemplateError).message).toContain('TEMPLATES_DIR');
  });

  it('a TEMPLATES_DIR without the templates', () => {
    const r = createRenderer({ templatesDir: '/nonexistent/templates', defaultLocale: 'pt-BR', timeZone: 'UTC' });
    expect(() => r.preload()).toThrow(/\/nonexistent\/templates\/locales\/en\.json/);
    expect(() => r.render(article(), 'whatsapp')).toThrow(TemplateError);
  });

  it('a template with a syntax error', () => {
    const dir = templatesWith({ 'telegram/article.eta': '<% if ( { %>x' });
    const r = createRenderer({ templatesDir: dir, defaultLocale: 'en', timeZone: 'UTC' });
    expect(() => r.render(article(), 'telegram')).toThrow(/telegram\/article\.eta does not compile/);
  });

  it('a template that fails while rendering, with the line', () => {
    const dir = templatesWith({ 'whatsapp/article.eta': 'ok\n<%= it.article.nothing.here %>' });
    const r = createRenderer({ templatesDir: dir, defaultLocale: 'en', timeZone: 'UTC' });
    expect(() => r.render(article(), 'whatsapp')).toThrow(/whatsapp\/article\.eta failed while rendering: .*article\.eta:2/);
  });

  it('a missing partial', () => {
    const dir = templatesWith({ 'telegram/article.eta': '<%~ include("/partials/gone") %>' });
    const r = createRenderer({ templatesDir: dir, defaultLocale: 'en', timeZone: 'UTC' });
    expect(() => r.render(article(), 'telegram')).toThrow(/article\.eta failed while rendering: .*partials\/gone\.eta/);
  });

  it('a template whose markup Telegram would reject', () => {
    const dir = templatesWith({
      'telegram/article.eta': '<div><%= it.article.title %></div>',
      'telegram/raw.eta': '<b><%~ it.article.title %></b>',
    });
    const r = createRenderer({ templatesDir: dir, defaultLocale: 'en', timeZone: 'UTC' });
    expect(() => r.render(article(), 'telegram')).toThrow(/article\.eta produced HTML that Telegram would reject: unsupported tag <div>/);
    expect(() => r.render(article({ title: 'a < b' }), 'telegram', { template: 'raw' })).toThrow(/raw\.eta produced HTML/);
  });

  it('a template name that tries to leave the folder', () => {
    expect(() => renderer.render(article(), 'telegram', { template: '../locales/en' })).toThrow(/not valid/);
  });
});

describe('locale strings', () => {
  it('fall back to English key by key', () => {
    const dir = templatesWith({
      'locales/en.json': '{"readMore":"Read more","onlyEnglish":"English only"}',
      'locales/pt-BR.json': '{"readMore":"Leia mais"}',
      'telegram/article.eta': '<%= it.t.readMore %>|<%= it.t.onlyEnglish %>|<%= it.t.nowhere %>',
    });
    const r = createRenderer({ templatesDir: dir, defaultLocale: 'pt-BR', timeZone: 'UTC' });
    expect(r.render(article(), 'telegram')[0]!.text).toBe('Leia mais|English only|');
    expect(r.strings('pt-BR')).toEqual({ readMore: 'Leia mais', onlyEnglish: 'English only' });
  });

  it('complain about a missing or broken locale file, naming it', () => {
    const dir = templatesWith({
      'locales/xx.json': '{"readMore": }',
      'locales/yy.json': '{"readMore": 3}',
      'telegram/article.eta': '<%= it.t.readMore %>',
    });
    const r = createRenderer({ templatesDir: dir, defaultLocale: 'pt-BR', timeZone: 'UTC' });
    expect(() => r.render(article(), 'telegram')).toThrow(/locale file for "pt-BR" not found: .*pt-BR\.json/);
    expect(() => r.render(article(), 'telegram', { locale: 'xx' })).toThrow(/xx\.json is not valid JSON/);
    expect(() => r.render(article(), 'telegram', { locale: 'yy' })).toThrow(/"readMore" must be a string/);
    expect(() => r.render(article(), 'telegram', { locale: '../x' })).toThrow(/not a locale tag/);
  });

  it('the bundled files have the same keys', async () => {
    const { readFileSync } = await import('node:fs');
    const pt = JSON.parse(readFileSync(path.join(templatesDir, 'locales/pt-BR.json'), 'utf8')) as object;
    const en = JSON.parse(readFileSync(path.join(templatesDir, 'locales/en.json'), 'utf8')) as object;
    expect(Object.keys(pt).sort()).toEqual(Object.keys(en).sort());
  });
});
