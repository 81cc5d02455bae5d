import { describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { canonicalUrl } from '../../src/articles/canonical.js';
import { createRenderer } from '../../src/render/renderer.js';
import { tagUrl } from '../../src/render/utm.js';

const templatesDir = new URL('../../templates', import.meta.url).pathname;

describe('tagUrl', () => {
  it('adds the default tags for the platform', () => {
    expect(tagUrl('https://site.example/a', 'telegram')).toBe('https://site.example/a?utm_source=telegram&utm_medium=social&utm_campaign=manchete');
    expect(tagUrl('http://site.example/a?id=3', 'whatsapp')).toBe('http://site.example/a?id=3&utm_source=whatsapp&utm_medium=social&utm_campaign=manchete');
  });

  it('replaces tags the URL already carries and keeps the other parameters in order', () => {
    expect(tagUrl('https://s.example/a?utm_source=rss&b=2&UTM_MEDIUM=feed&c=%C3%A7', 'telegram')).toBe(
      'https://s.example/a?b=2&c=%C3%A7&utm_source=telegram&utm_medium=social&utm_campaign=manchete',
    );
  });

  it('keeps the fragment after the query', () => {
    expect(tagUrl('https://s.example/a?x=1#trecho', 'whatsapp')).toBe('https://s.example/a?x=1&utm_source=whatsapp&utm_medium=social&utm_campaign=manchete#trecho');
    expect(tagUrl('https://s.example/a#t', 'telegram')).toBe('https://s.example/a?utm_source=telegram&utm_medium=social&utm_campaign=manchete#t');
  });

  it("uses a destination's own tags, encoded, and sends utm_content only when set", () => {
    expect(tagUrl('https://s.example/a', 'telegram', { source: 'canal-politica', campaign: 'eleições 2026', content: 'topo' })).toBe(
      'https://s.example/a?utm_source=canal-politica&utm_medium=social&utm_campaign=elei%C3%A7%C3%B5es%202026&utm_content=topo',
    );
  });

  it('leaves non-http(s) URLs, broken ones and utm: false alone', () => {
    expect(tagUrl('https://s.example/a?utm_source=x', 'telegram', false)).toBe('https://s.example/a?utm_source=x');
    expect(tagUrl('tg://resolve?domain=x', 'telegram')).toBe('tg://resolve?domain=x');
    expect(tagUrl('mailto:a@b.example', 'telegram')).toBe('mailto:a@b.example');
    expect(tagUrl('/noticia/1', 'telegram')).toBe('/noticia/1');
    expect(tagUrl('https://', 'telegram')).toBe('https://');
    expect(tagUrl('', 'telegram')).toBe('');
  });

  it('the dedup key of a tagged link is the untagged one', () => {
    const url = 'https://site.example/noticia/1?id=7';
    expect(canonicalUrl(tagUrl(url, 'telegram', { content: 'x' }))).toBe(canonicalUrl(url));
  });
});

describe('renderer with UTM tags', () => {
  const article: Article = {
    id: 'a1',
    url: 'https://site.example/noticia/a1?utm_source=rss#topo',
    title: 'Título',
    lead: 'Resumo.',
    body: '',
    section: 'Mundo',
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: null,
    updatedAt: null,
    feedUrl: null,
  };
  const tagged = (p: string) => `https://site.example/noticia/a1?utm_source=${p}&utm_medium=social&utm_campaign=manchete#topo`;

  it('tags the Telegram link and preview, the WhatsApp link and preview, and digests', () => {
    const r = createRenderer({ templatesDir, defaultLocale: 'pt-BR', timeZone: 'UTC' });
    const tg = r.render(article, 'telegram');
    expect(tg[0]!.text).toContain(`href="${tagged('telegram').replace(/&/g, '&amp;')}"`);
    expect(tg[0]!.previewUrl).toBe(tagged('telegram'));
    const wa = r.render(article, 'whatsapp');
    expect(wa[0]!.text).toContain(tagged('whatsapp'));
    expect(wa[0]!.previewUrl).toBe(tagged('whatsapp'));
    const both = r.renderBoth(article);
    expect(both.telegram[0]!.previewUrl).toBe(tagged('telegram'));
    expect(both.whatsapp[0]!.previewUrl).toBe(tagged('whatsapp'));
    expect(r.renderDigest([article], 'whatsapp')[0]!.text).toContain(tagged('whatsapp'));
    // The article itself is not changed.
    expect(article.url).toBe('https://site.example/noticia/a1?utm_source=rss#topo');
  });

  it('UTM_TAGS off leaves links as they are, unless a destination sets its own tags; utm: false always does', () => {
    const off = createRenderer({ templatesDir, defaultLocale: 'pt-BR', timeZone: 'UTC', utmTags: false });
    expect(off.render(article, 'whatsapp')[0]!.previewUrl).toBe(article.url);
    expect(off.render(article, 'whatsapp', { utm: { campaign: 'c' } })[0]!.previewUrl).toBe(
      'https://site.example/noticia/a1?utm_source=whatsapp&utm_medium=social&utm_campaign=c#topo',
    );
    const on = createRenderer({ templatesDir, defaultLocale: 'pt-BR', timeZone: 'UTC' });
    expect(on.render(article, 'telegram', { utm: false })[0]!.previewUrl).toBe(article.url);
  });
});
