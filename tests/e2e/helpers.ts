import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A story for the test feeds and pages. */
export interface Story {
  id: string;
  title: string;
  section: string;
  lead?: string;
  /** Minutes after the base time (half a day before the test run, so stories are within MAX_ARTICLE_AGE). */
  minute: number;
  /** The feed's guid when it differs from `id` (which makes the link). */
  guid?: string;
  /** No pubDate at all. */
  undated?: boolean;
  image?: string;
}

// Relative to the run, on a whole hour: a fixed date would age past MAX_ARTICLE_AGE and stop being posted.
const BASE = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 12 * 3_600_000;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An RSS 2.0 feed of the stories, newest first, as news sites publish them. */
export function rss(origin: string, stories: Story[]): string {
  const items = [...stories]
    .sort((a, b) => b.minute - a.minute)
    .map(
      (s) => `<item>
  <title>${esc(s.title)}</title>
  <link>${origin}/noticia/${s.id}</link>
  <guid isPermaLink="false">${s.guid ?? s.id}</guid>
  <category>${esc(s.section)}</category>
  ${s.undated ? '' : `<pubDate>${new Date(BASE + s.minute * 60_000).toUTCString()}</pubDate>`}
  <description>${esc(s.lead ?? `Resumo da notícia ${s.id}, com detalhes suficientes para virar o lead da mensagem enviada aos leitores.`)}</description>
  ${s.image ? `<enclosure url="${s.image}" type="image/jpeg" length="1000"/>` : ''}
</item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Teste</title><link>${origin}/</link><description>feed</description>
${items}
</channel></rss>`;
}

/** An article page with Open Graph tags, for pushes. */
export function articlePage(url: string, s: { title: string; lead: string; section: string }): string {
  return `<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">
<title>${esc(s.title)} | Site</title>
<meta property="og:type" content="article">
<meta property="og:title" content="${esc(s.title)}">
<meta property="og:description" content="${esc(s.lead)}">
<meta property="og:url" content="${url}">
<meta property="article:section" content="${esc(s.section)}">
<meta property="article:published_time" content="2026-11-25T10:00:00-03:00">
</head><body><article><h1>${esc(s.title)}</h1><p>${esc(s.lead)}</p>
<p>Segundo parágrafo da matéria, com mais informações sobre o caso e declarações de fontes ouvidas.</p></article></body></html>`;
}

export function tempDir(prefix = 'manchete-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `predicate` until it holds or `timeoutMs` passes. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
