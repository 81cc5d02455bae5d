import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { collapseWhitespace } from '../../src/articles/text.js';
import { enrichArticle, extractPage, pageToArticle, type PageArticle } from '../../src/sources/page.js';

const URL = 'https://www.jornal.example/politica/2024/09/reforma-aprovada.html';
const opts = { summaryMaxChars: 300 };
const P1 =
  'A Câmara dos Deputados aprovou nesta terça-feira, em primeiro turno, a proposta de reforma tributária que unifica cinco impostos sobre o consumo.';
const P2 = 'O texto segue agora para o Senado, onde o governo espera votar a matéria até o fim do ano, segundo o líder do governo.';
const P3 = 'A oposição criticou a velocidade da tramitação e prometeu apresentar emendas durante a discussão na outra Casa.';

function page(head: string, body = `<article><h1>Reforma aprovada</h1><p>${P1}</p><p>${P2}</p><p>${P3}</p></article>`): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;
}

describe('extractPage: metadata', () => {
  it('reads Open Graph and article:* tags', () => {
    const p = extractPage(
      page(`
        <title>Reforma tributária é aprovada na Câmara - Jornal Exemplo</title>
        <meta property="og:site_name" content="Jornal Exemplo">
        <meta property="og:title" content="Reforma tributária é aprovada na Câmara">
        <meta property="og:description" content="Texto unifica cinco impostos sobre o consumo e segue para o Senado, onde deve ser votado até dezembro.">
        <meta property="og:image" content="../../img/camara.jpg?w=1200&amp;h=630">
        <meta property="og:url" content="https://www.jornal.example/politica/2024/09/reforma-aprovada.html?utm_source=fb">
        <meta property="article:section" content="Política">
        <meta property="article:tag" content="Reforma tributária">
        <meta property="article:tag" content="Câmara">
        <meta property="article:published_time" content="2024-09-10T21:05:00-03:00">
        <meta property="article:modified_time" content="2024-09-10T22:00:00-03:00">
        <meta property="article:author" content="https://www.facebook.com/jornal">
        <meta name="author" content="Maria Silva">`),
      URL,
      opts,
    );
    expect(p).toMatchObject({
      url: URL,
      canonical: URL,
      title: 'Reforma tributária é aprovada na Câmara',
      lead: 'Texto unifica cinco impostos sobre o consumo e segue para o Senado, onde deve ser votado até dezembro.',
      section: 'Política',
      tags: ['Reforma tributária', 'Câmara'],
      imageUrl: 'https://www.jornal.example/politica/img/camara.jpg?w=1200&h=630',
      author: 'Maria Silva',
      siteName: 'Jornal Exemplo',
    });
    expect(p.publishedAt).toEqual(new Date('2024-09-11T00:05:00Z'));
    expect(p.updatedAt).toEqual(new Date('2024-09-11T01:00:00Z'));
    expect(p.body).toContain(P1);
    expect(p.body).toContain(P3);
  });

  it('prefers link rel=canonical over og:url', () => {
    const p = extractPage(page('<link rel="canonical" href="/politica/reforma/"><meta property="og:url" content="https://other.example/x">'), URL, opts);
    expect(p.canonical).toBe('https://www.jornal.example/politica/reforma');
  });

  it('falls back to <title> without the site name, and to the body for the lead', () => {
    const p = extractPage(page('<title>Reforma tributária é aprovada na Câmara | Jornal Exemplo</title>'), URL, opts);
    expect(p.title).toBe('Reforma tributária é aprovada na Câmara');
    expect(p.lead.startsWith('A Câmara dos Deputados aprovou')).toBe(true);
    expect(p.lead.length).toBeLessThanOrEqual(300);
    expect(p.canonical).toBeNull();
  });

  it('removes the site name from og:title only when it is the site name', () => {
    const withSite = extractPage(
      page('<meta property="og:site_name" content="BBC News"><meta property="og:title" content="Obama admits frustration - BBC News">'),
      URL,
      opts,
    );
    expect(withSite.title).toBe('Obama admits frustration');
    const other = extractPage(page('<meta property="og:title" content="Análise: o que muda - e o que não muda">'), URL, opts);
    expect(other.title).toBe('Análise: o que muda - e o que não muda');
  });

  it('skips a description too short to be a lead and takes the next one', () => {
    const p = extractPage(
      page(
        '<meta property="og:description" content="Leia."><meta name="description" content="Proposta unifica cinco impostos e segue agora para o Senado federal.">',
      ),
      URL,
      opts,
    );
    expect(p.lead).toBe('Proposta unifica cinco impostos e segue agora para o Senado federal.');
  });

  it('removes boilerplate from the description', () => {
    const p = extractPage(
      page(`<meta property="og:description" content="${P1} ✅ Receba as notícias do Jornal no WhatsApp.">`),
      URL,
      opts,
    );
    expect(p.lead).toBe(P1);
  });

  it('reads JSON-LD when the meta tags are missing', () => {
    const ld = {
      '@context': 'https://schema.org',
      '@graph': [
        { '@type': 'WebSite', name: 'Jornal Exemplo' },
        {
          '@type': ['NewsArticle'],
          headline: 'Reforma aprovada em primeiro turno',
          description: 'A proposta unifica cinco impostos sobre o consumo e agora vai ao Senado.',
          datePublished: '2024-09-10T21:05:00-03:00',
          author: [{ '@type': 'Person', name: 'João Souza' }],
          articleSection: ['Política', 'Economia'],
          keywords: 'reforma, impostos , Câmara',
          image: { '@type': 'ImageObject', url: 'https://cdn.jornal.example/r.jpg' },
          publisher: { '@type': 'Organization', name: 'Jornal Exemplo' },
        },
      ],
    };
    const p = extractPage(page(`<script type="application/ld+json">${JSON.stringify(ld)}</script>`), URL, opts);
    expect(p).toMatchObject({
      title: 'Reforma aprovada em primeiro turno',
      lead: 'A proposta unifica cinco impostos sobre o consumo e agora vai ao Senado.',
      section: 'Política',
      tags: ['reforma', 'impostos', 'Câmara'],
      imageUrl: 'https://cdn.jornal.example/r.jpg',
      author: 'João Souza',
      siteName: 'Jornal Exemplo',
    });
    expect(p.publishedAt).toEqual(new Date('2024-09-11T00:05:00Z'));
  });

  it('ignores broken JSON-LD and non-http images', () => {
    const p = extractPage(
      page('<script type="application/ld+json">{ not json</script><meta property="og:image" content="javascript:alert(1)">'),
      URL,
      opts,
    );
    expect(p.imageUrl).toBeNull();
    expect(p.body).toContain(P1);
  });

  it('reports unparseable dates as missing', () => {
    const p = extractPage(page('<meta property="article:published_time" content="em breve">'), URL, opts);
    expect(p.publishedAt).toBeNull();
  });
});

describe('extractPage: body', () => {
  it('removes share, newsletter and related boxes before Readability', () => {
    const body = `<article><h1>Reforma aprovada</h1>
      <div class="social-share"><a>Facebook</a> <a>Twitter</a> Copie o link desta reportagem e mande para os amigos</div>
      <p>${P1}</p>
      <div id="newsletter-box"><p>Cadastre seu e-mail e receba toda manhã o resumo das notícias mais importantes do dia em sua caixa.</p></div>
      <p>${P2}</p>
      <aside><p>Uma caixa lateral com muito texto que não é parte da notícia e não deveria aparecer no corpo.</p></aside>
      <div class="related-posts"><h3>Mais sobre o tema</h3><ul><li><a href="/a">Senado deve votar a reforma até dezembro, diz relator do projeto</a></li></ul></div>
      <p>${P3}</p></article>`;
    const p = extractPage(page('', body), URL, opts);
    expect(p.body).toBe(`${P1}\n\n${P2}\n\n${P3}`);
  });

  it('never removes a wrapper that holds most of the text, whatever its class', () => {
    const body = `<div class="post-content social-ready"><p>${P1}</p><p>${P2}</p><p>${P3}</p></div>`;
    const p = extractPage(page('', body), URL, opts);
    expect(p.body).toContain(P1);
    expect(p.body).toContain(P3);
  });

  it('removes promotional lines that Readability keeps', () => {
    const body = `<article><p>${P1}</p><p>✅ Receba as notícias do Jornal no WhatsApp.</p><p>${P2}</p><p>Assine o Jornal e apoie o jornalismo.</p><h3>Relacionados</h3><p><a href="/x">Outra matéria qualquer</a></p></article>`;
    const p = extractPage(page('', body), URL, opts);
    expect(p.body).toBe(`${P1}\n\n${P2}`);
  });
});

describe('extractPage: bad input', () => {
  it.each([
    ['empty', ''],
    ['plain text', 'just some words'],
    ['broken markup', '<html><head><title>Sem fim<body><p>aberto <div><span>'],
    ['binary-ish', '\u0000\u0001<<<>>>&&&'],
  ])('does not throw on %s', (_name, html) => {
    const p = extractPage(html, URL, opts);
    expect(typeof p.lead).toBe('string');
    expect(typeof p.body).toBe('string');
    expect(Array.isArray(p.tags)).toBe(true);
  });

  it('reads a fragment without <html>', () => {
    const p = extractPage(`<h1>Reforma aprovada</h1><p>${P1}</p><p>${P2}</p>`, URL, opts);
    expect(p.title).toBe('Reforma aprovada');
    expect(p.body).toContain(P1);
  });

  it('does not run Readability on pathologically deep markup, and still returns its text', () => {
    // 400 unclosed paragraphs with links: each nests inside the previous one.
    const html = `<html><body>${Array.from({ length: 400 }, (_, i) => `<p>Parágrafo ${i} com <a href="/l${i}">um link</a> e texto suficiente.`).join('')}</body></html>`;
    const p = extractPage(html, URL, opts);
    expect(p.body).toContain('Parágrafo 0 com um link');
    expect(p.body).toContain('Parágrafo 399 com um link');
  });

  it('gives null fields for a page without metadata', () => {
    const p = extractPage('<html><body></body></html>', URL, opts);
    expect(p).toMatchObject({ title: null, canonical: null, section: null, imageUrl: null, author: null, publishedAt: null, siteName: null, lead: '', body: '' });
  });
});

function samplePage(over: Partial<PageArticle> = {}): PageArticle {
  return {
    url: URL,
    canonical: 'https://www.jornal.example/politica/reforma',
    title: 'Reforma aprovada',
    lead: P1,
    section: 'Política',
    tags: ['Câmara'],
    imageUrl: 'https://cdn.jornal.example/r.jpg',
    author: 'Maria Silva',
    publishedAt: new Date('2024-09-11T00:05:00Z'),
    updatedAt: null,
    siteName: 'Jornal Exemplo',
    body: `${P1}\n\n${P2}\n\n${P3}`,
    ...over,
  };
}

describe('pageToArticle', () => {
  it('builds an article keyed by the canonical URL', () => {
    const a = pageToArticle(samplePage(), { feedUrl: null });
    expect(a).toEqual({
      id: 'url:https://www.jornal.example/politica/reforma',
      url: 'https://www.jornal.example/politica/reforma',
      title: 'Reforma aprovada',
      lead: P1,
      body: `${P1}\n\n${P2}\n\n${P3}`,
      section: 'Política',
      tags: ['Câmara'],
      imageUrl: 'https://cdn.jornal.example/r.jpg',
      imageCaption: null,
      imageCredit: null,
      author: 'Maria Silva',
      publishedAt: new Date('2024-09-11T00:05:00Z'),
      updatedAt: null,
      feedUrl: null,
    });
  });

  it('falls back to the fetched URL and an empty title, and re-cuts a long lead', () => {
    const a = pageToArticle(samplePage({ canonical: null, title: null, lead: `${P1} ${P2}` }), { summaryMaxChars: 160 });
    expect(a.url).toBe(URL);
    expect(a.title).toBe('');
    expect(a.lead).toBe(P1);
  });
});

function thinArticle(over: Partial<Article> = {}): Article {
  return {
    id: 'guid:abc-123-456',
    url: 'https://www.jornal.example/politica/reforma',
    title: 'Reforma aprovada',
    lead: '',
    body: '',
    section: null,
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: null,
    updatedAt: null,
    feedUrl: 'https://www.jornal.example/feed',
    ...over,
  };
}

describe('enrichArticle', () => {
  it('fills a thin article from its page and keeps its identity', () => {
    const a = enrichArticle(thinArticle(), samplePage());
    expect(a).toMatchObject({
      id: 'guid:abc-123-456',
      url: 'https://www.jornal.example/politica/reforma',
      title: 'Reforma aprovada',
      lead: P1,
      body: `${P1}\n\n${P2}\n\n${P3}`,
      section: 'Política',
      tags: ['Câmara'],
      imageUrl: 'https://cdn.jornal.example/r.jpg',
      author: 'Maria Silva',
      feedUrl: 'https://www.jornal.example/feed',
    });
    expect(a.publishedAt).toEqual(new Date('2024-09-11T00:05:00Z'));
  });

  it('keeps what the feed already had', () => {
    const own = thinArticle({
      lead: 'Um lead próprio do feed, com substância suficiente para ficar.',
      body: 'Corpo longo do feed. '.repeat(30),
      section: 'Economia',
      tags: ['Impostos'],
      imageUrl: 'https://feed.example/img.jpg',
      author: 'Feed Author',
      publishedAt: new Date('2024-01-01T00:00:00Z'),
    });
    const a = enrichArticle(own, samplePage());
    expect(a).toEqual(own);
  });

  it('does not mutate its inputs', () => {
    const thin = thinArticle();
    const p = samplePage();
    const a = enrichArticle(thin, p);
    a.tags.push('x');
    expect(thin.tags).toEqual([]);
    expect(p.tags).toEqual(['Câmara']);
  });
});

// Readability's own test pages: the title and lead extractPage finds, against Readability's expected metadata.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pagesDir = path.resolve(repoRoot, '../shared/corpora/readability/test/test-pages');

describe.skipIf(!fs.existsSync(pagesDir))('extractPage over the Readability test pages', () => {
  it('matches the expected title and excerpt on most pages', () => {
    let titles = 0;
    let excerpts = 0;
    let total = 0;
    for (const name of fs.readdirSync(pagesDir).sort()) {
      const dir = path.join(pagesDir, name);
      const source = path.join(dir, 'source.html');
      const metaFile = path.join(dir, 'expected-metadata.json');
      if (!fs.existsSync(source) || !fs.existsSync(metaFile)) continue;
      const expected = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { title?: string; excerpt?: string };
      const p = extractPage(fs.readFileSync(source, 'utf8'), 'http://fakehost/test/page.html', opts);
      total++;
      if ((p.title ?? '') === (expected.title ?? '')) titles++;
      // The lead is cut at 300 characters: it matches when one starts with the other.
      const want = collapseWhitespace(expected.excerpt ?? '');
      const got = p.lead.replace(/…$/, '');
      if (want && got && (want.startsWith(got) || got.startsWith(want))) excerpts++;
    }
    expect(total).toBeGreaterThanOrEqual(10);
    // At the time of writing: titles 19/19, excerpts 17/19.
    expect(titles / total).toBeGreaterThanOrEqual(0.9);
    expect(excerpts / total).toBeGreaterThanOrEqual(0.8);
  });
});
