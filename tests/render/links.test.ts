/**
 * Links that reach a message are http(s) only: the renderer's own check, behind normalisation's, for
 * the article link, the picture, the WhatsApp preview and every `<a href>` a template writes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { dropUnsafeLinks } from '../../src/render/links.js';
import { createRenderer } from '../../src/render/renderer.js';
import { validateTelegramHtml } from '../../src/render/telegram-html.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const renderer = createRenderer({ templatesDir: path.join(repoRoot, 'templates'), defaultLocale: 'pt-BR', timeZone: 'America/Sao_Paulo', utmTags: false });

function article(over: Partial<Article> = {}): Article {
  return {
    id: 'a1', url: 'https://www.example.com.br/mundo/noticia', title: 'Título da notícia', lead: 'O lead da notícia.', body: '',
    section: null, tags: [], imageUrl: null, imageCaption: null, imageCredit: null, author: null,
    publishedAt: null, updatedAt: null, feedUrl: null, ...over,
  };
}

const BAD = [
  'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)', 'java&#x09;script:alert(1)',
  'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'tg://resolve?domain=x', 'vbscript:msgbox(1)',
  '//evil.example/x', '/relative', 'noticia.html', 'https&#58;//evil.example',
];

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('rendered links', () => {
  for (const bad of BAD) {
    it(`never links, previews or shows a picture of ${JSON.stringify(bad)}`, () => {
      for (const platform of ['telegram', 'whatsapp'] as const) {
        const msgs = renderer.render(article({ url: bad, imageUrl: bad }), platform, { photo: true });
        for (const m of msgs) {
          expect(m.kind, platform).toBe('text');
          expect(m.imageUrl ?? null).toBeNull();
          expect(m.previewUrl ?? null).toBeNull();
          expect(m.preview?.imageUrl).toBeUndefined();
          expect(m.text).not.toMatch(/href|javascript|vbscript|data:|file:|tg:/i);
          expect(m.text).toContain('Título da notícia');
        }
      }
    });
  }

  it('keeps http(s) links as they are', () => {
    const [m] = renderer.render(article(), 'telegram');
    expect(m!.text).toContain('<a href="https://www.example.com.br/mundo/noticia">');
  });

  it('unwraps any <a> a template builds with a non-http(s) href, keeping its text', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'manchete-links-'));
    tmp.push(dir);
    mkdirSync(path.join(dir, 'telegram'), { recursive: true });
    mkdirSync(path.join(dir, 'whatsapp'), { recursive: true });
    mkdirSync(path.join(dir, 'locales'), { recursive: true });
    writeFileSync(path.join(dir, 'locales/en.json'), '{}');
    // A template that (wrongly) makes a link out of a hostile field.
    writeFileSync(path.join(dir, 'telegram/article.eta'), '<a href="<%= it.article.lead %>">abrir</a> <a href="https://ok.example/">ok</a>');
    writeFileSync(path.join(dir, 'whatsapp/article.eta'), '<%= it.article.title %>');
    const r = createRenderer({ templatesDir: dir, defaultLocale: 'en', timeZone: 'UTC' });
    for (const bad of BAD) {
      const [m] = r.render(article({ lead: bad }), 'telegram', { photo: false });
      expect(m!.text, bad).toBe('abrir <a href="https://ok.example/">ok</a>');
    }
  });

  it('dropUnsafeLinks leaves valid links and text alone and keeps the HTML valid', () => {
    const html = '<b>x</b> <a href="https://a.example/?q=1&amp;r=2">a</a> <a href="JAVASCRIPT:x"><i>b</i></a> &lt;a href=&quot;javascript:x&quot;&gt;';
    const out = dropUnsafeLinks(html);
    expect(out).toBe('<b>x</b> <a href="https://a.example/?q=1&amp;r=2">a</a> <i>b</i> &lt;a href=&quot;javascript:x&quot;&gt;');
    expect(validateTelegramHtml(out)).toEqual({ ok: true });
    expect(dropUnsafeLinks('sem links')).toBe('sem links');
  });
});
