/**
 * The seed article (a Brasil 247 world-news story, ../shared/seeds/) through the summary path: as the
 * page the site serves, as a feed item, and as raw text. The page is built here from the seed's text,
 * with the site's promotional lines where the site puts them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stripBoilerplate } from '../../src/articles/boilerplate.js';
import { normalizeItem } from '../../src/articles/normalize.js';
import { extractPage, pageToArticle } from '../../src/sources/page.js';
import type { FeedItem } from '../../src/sources/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seedFile = path.resolve(repoRoot, '../shared/seeds/000_7e1905dfbb2939a1.txt');
const hasSeed = fs.existsSync(seedFile);

const BANNED = ['Receba as notícias', 'Assine o 247', 'iBest', 'Relacionados', '(Foto: KCNA', 'HOME >', 'apoie por Pix'];
const URL = 'https://www.brasil247.com/mundo/kim-jong-un-da-coreia-do-norte-se-reune-com-shoigu-da-russia';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The seed's parts, found by what they are rather than by position. */
function readSeed() {
  const blocks = fs
    .readFileSync(seedFile, 'utf8')
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter(Boolean);
  const [breadcrumb, title, subtitle] = blocks as [string, string, string];
  const caption = blocks.find((b) => b.includes('(Foto:'))!;
  const whatsapp = blocks.find((b) => b.includes('Receba as notícias'))!;
  const reporter = blocks.find((b) => b.startsWith('(Reportagem'))!;
  const ibest = blocks.find((b) => b.startsWith('iBest'))!;
  const assine = blocks.find((b) => b.startsWith('Assine'))!;
  const related = blocks[blocks.length - 1]!;
  const body = blocks.filter((b) => ![breadcrumb, title, subtitle, caption, whatsapp, reporter, ibest, assine, related].includes(b));
  return { blocks, breadcrumb, title, subtitle, caption, whatsapp, reporter, ibest, assine, related, body };
}

/** The page as the site serves it; `hints` says whether the boxes carry their usual class names. */
function buildPage(hints: boolean): string {
  const s = readSeed();
  const cls = (name: string) => (hints ? ` class="${name}"` : '');
  return `<!DOCTYPE html>
<html lang="pt-BR"><head>
<meta charset="utf-8">
<title>${esc(s.title)} | Brasil 247</title>
<link rel="canonical" href="${URL}/">
<meta name="description" content="${esc(s.subtitle)}">
<meta property="og:site_name" content="Brasil 247">
<meta property="og:type" content="article">
<meta property="og:url" content="${URL}?utm_source=facebook">
<meta property="og:title" content="${esc(s.title)}">
<meta property="og:description" content="${esc(s.subtitle)}">
<meta property="og:image" content="/uploads/2024/09/kim-shoigu.jpg">
<meta property="article:section" content="Mundo">
<meta property="article:tag" content="Coreia do Norte">
<meta property="article:tag" content="Rússia">
<meta property="article:tag" content="coreia do norte">
<meta property="article:published_time" content="2024-09-14T09:12:00-03:00">
<meta property="article:modified_time" content="2024-09-14T10:30:00-03:00">
<meta name="author" content="Reuters">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":${JSON.stringify(s.title)}}</script>
</head><body>
<header><nav class="menu"><a href="/">Home</a> <a href="/brasil">Brasil</a> <a href="/mundo">Mundo</a></nav></header>
<div${cls('breadcrumb')}><a href="/">HOME</a> &gt; <a href="/mundo">Mundo</a></div>
<main><article>
<h1>${esc(s.title)}</h1>
<h2${cls('article__subtitle')}>${esc(s.subtitle)}</h2>
<div${cls('share-bar')}>Compartilhe: <a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">WhatsApp</a></div>
<figure><img src="/uploads/2024/09/kim-shoigu.jpg" alt=""><figcaption>${esc(s.caption)}</figcaption></figure>
<p>${esc(s.whatsapp)}</p>
<div class="article__body">
${s.body.map((p) => `<p>${esc(p)}</p>`).join('\n')}
<p>${esc(s.reporter)}</p>
<p><strong>iBest:</strong> ${esc(s.ibest.replace(/^iBest:\s*/, ''))}</p>
<p>${esc(s.assine)}</p>
<iframe src="https://www.youtube.com/embed/live"></iframe>
</div>
<section${cls('related-news')}>
<h3>${esc(s.related)}</h3>
<ul><li><a href="/mundo/a">Putin recebe Kim em Moscou para cúpula</a></li><li><a href="/mundo/b">Coreia do Sul reage a teste de míssil</a></li></ul>
</section>
</article></main>
<footer>Brasil 247 — todos os direitos reservados</footer>
</body></html>`;
}

function expectClean(text: string): void {
  for (const banned of BANNED) expect(text, `should not contain ${banned}`).not.toContain(banned);
}

describe.skipIf(!hasSeed)('the seed article (Brasil 247)', () => {
  for (const hints of [true, false]) {
    it(`extracts section, title and a clean lead and body from the page (${hints ? 'with' : 'without'} class hints)`, () => {
      const s = readSeed();
      const page = extractPage(buildPage(hints), URL, { summaryMaxChars: 300 });
      expect(page.section).toBe('Mundo');
      expect(page.title).toBe(s.title);
      expect(page.lead.startsWith('O líder da Coreia do Norte afirmou')).toBe(true);
      expect(page.canonical).toBe(URL);
      expect(page.imageUrl).toBe('https://www.brasil247.com/uploads/2024/09/kim-shoigu.jpg');
      expect(page.siteName).toBe('Brasil 247');
      expect(page.tags).toEqual(['Coreia do Norte', 'Rússia']);
      expect(page.publishedAt).toEqual(new Date('2024-09-14T12:12:00Z'));
      expect(page.updatedAt).toEqual(new Date('2024-09-14T13:30:00Z'));
      expect(page.author).toBe('Reuters');
      expectClean(page.title ?? '');
      expectClean(page.lead);
      expectClean(page.body);
      // The story itself is all there.
      expect(page.body).toContain('SEOUL (Reuters) - O líder norte-coreano Kim Jong Un se reuniu');
      expect(page.body).toContain('desde a dissolução da União Soviética em 1991.');
      for (const p of s.body) expect(page.body).toContain(p);
      expect(page.body).not.toContain('Compartilhe');
      expect(page.body).not.toContain('Putin recebe Kim');

      const article = pageToArticle(page);
      expect(article.section).toBe('Mundo');
      expect(article.title).toBe(s.title);
      expect(article.url).toBe(URL);
      expect(article.id).toBe(`url:${URL}`);
      expect(article.lead.startsWith('O líder da Coreia do Norte afirmou')).toBe(true);
      expect(article.feedUrl).toBeNull();
    });
  }

  it('summarises the page body when the page has no description', () => {
    const html = buildPage(true).replace(/<meta (?:name|property)="(?:og:)?description"[^>]*>/g, '');
    const page = extractPage(html, URL, { summaryMaxChars: 300 });
    expect(page.lead.length).toBeGreaterThan(100);
    expect(page.lead.length).toBeLessThanOrEqual(300);
    expectClean(page.lead);
  });

  it('gives the same message data through the feed path (description + content:encoded)', () => {
    const s = readSeed();
    const content = [
      `<figure><img src="https://www.brasil247.com/uploads/kim.jpg"><figcaption>${esc(s.caption)}</figcaption></figure>`,
      `<p>${esc(s.whatsapp)}</p>`,
      ...s.body.map((p) => `<p>${esc(p)}</p>`),
      `<p>${esc(s.reporter)}</p>`,
      `<p>${esc(s.ibest)}</p>`,
      `<p>${esc(s.assine)}</p>`,
      `<p>${esc(s.related)}</p>`,
    ].join('');
    const item: FeedItem = {
      guid: `${URL}/`,
      guidIsPermalink: true,
      link: `${URL}/?utm_source=rss`,
      title: s.title,
      summaryHtml: `${esc(s.subtitle)} ${esc(s.whatsapp)}`,
      contentHtml: content,
      categories: ['Mundo', 'Coreia do Norte'],
      authors: [],
      published: 'Sáb, 14 Set 2024 09:12:00 -0300',
      updated: null,
      image: null,
      enclosures: [],
    };
    const a = normalizeItem(item, { feedUrl: 'https://www.brasil247.com/feed', summaryMaxChars: 300 })!;
    expect(a.section).toBe('Mundo');
    expect(a.title).toBe(s.title);
    expect(a.url).toBe(URL);
    expect(a.lead.startsWith('O líder da Coreia do Norte afirmou')).toBe(true);
    expect(a.imageUrl).toBe('https://www.brasil247.com/uploads/kim.jpg');
    expect(a.publishedAt).toEqual(new Date('2024-09-14T12:12:00Z'));
    expectClean(a.lead);
    expectClean(a.body);
    expect(a.body).toContain('SEOUL (Reuters)');
  });

  it('strips the raw seed text, every line of it', () => {
    const s = readSeed();
    const out = stripBoilerplate(s.blocks.join('\n\n'));
    expectClean(out);
    expect(out).not.toContain('(Reportagem de');
    expect(out).not.toContain('encontra-se com Sergei Shoigu'); // the photo caption line
    expect(out.startsWith(s.title)).toBe(true);
    expect(out).toContain(s.subtitle);
    for (const p of s.body) expect(out).toContain(p);
    // The same with single line breaks, as a CMS export would have it.
    expectClean(stripBoilerplate(s.blocks.join('\n')));
  });
});
