/**
 * Ingest path on a 500-item feed: feedsmith's bare parse of the bytes, side by side with Manchete's whole
 * path (decode, parse, normalise, dedup key, summarise, render for Telegram and WhatsApp), in one run.
 * Prints one JSON line.
 */
import { parseFeed as feedsmithParse } from 'feedsmith';
import { resolve } from 'node:path';
import { decodeBody } from '../src/sources/decode.js';
import { parseFeed } from '../src/sources/parse.js';
import { normalizeItem } from '../src/articles/normalize.js';
import { createRenderer } from '../src/render/renderer.js';
import { median, peakRssMb } from './lib.js';

const N = 500;
const sections = ['Política', 'Economia', 'Mundo', 'Esportes', 'Cultura', 'Brasil'];
const para = (i: number, k: number) =>
  `<p>O governo anunciou nesta ${['segunda', 'terça', 'quarta', 'quinta', 'sexta'][k % 5]}-feira (${i}) um pacote de medidas para o setor, com investimentos de R$ ${i}${k},5 bilhões ao longo de dois anos. Segundo o ministro, a expectativa é de que &quot;os efeitos apareçam já no próximo trimestre&quot;, o que analistas consideram otimista.</p>`;
const items = Array.from({ length: N }, (_, i) => {
  const d = new Date(Date.UTC(2026, 10, 25, 12, 0, 0) - i * 600_000).toUTCString();
  return `<item>
<title>Notícia ${i}: governo anuncia medidas &amp; mercado reage</title>
<link>https://www.exemplo.com.br/${sections[i % 6]!.toLowerCase()}/2026/11/noticia-${i}?utm_source=rss&amp;utm_medium=feed</link>
<guid isPermaLink="false">exemplo-${i}</guid>
<dc:creator>Redação</dc:creator>
<category>${sections[i % 6]}</category><category>Governo</category>
<pubDate>${d}</pubDate>
<description><![CDATA[<p>Resumo da notícia ${i}: o pacote prevê crédito para pequenas empresas e renegociação de dívidas. Leia também: outra matéria</p>]]></description>
<content:encoded><![CDATA[<figure><img src="https://www.exemplo.com.br/img/${i}.jpg"/><figcaption>Foto: Agência</figcaption></figure>${para(i, 1)}${para(i, 2)}<p>✅ Receba as notícias no canal do WhatsApp.</p>${para(i, 3)}<p>Relacionados</p>]]></content:encoded>
<media:content url="https://www.exemplo.com.br/img/${i}.jpg" medium="image" type="image/jpeg"/>
</item>`;
}).join('\n');
const xml = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Exemplo</title><link>https://www.exemplo.com.br/</link><description>Notícias</description>
${items}
</channel></rss>`;
const bytes = new TextEncoder().encode(xml);

const renderer = createRenderer({ templatesDir: resolve('templates'), defaultLocale: 'pt-BR', timeZone: 'America/Sao_Paulo' });
renderer.preload();

function bare(): number {
  const t = performance.now();
  const text = new TextDecoder().decode(bytes);
  const f = feedsmithParse(text);
  if (!f) throw new Error('no feed');
  return performance.now() - t;
}

let articlesOut = 0;
function whole(): number {
  const t = performance.now();
  const text = decodeBody(bytes, 'application/rss+xml; charset=utf-8');
  const parsed = parseFeed(text, 'https://www.exemplo.com.br/feed');
  const seen = new Set<string>();
  let n = 0;
  for (const item of parsed.items) {
    const a = normalizeItem(item, { feedUrl: 'https://www.exemplo.com.br/feed', summaryMaxChars: 300 });
    if (!a || seen.has(a.id)) continue;
    seen.add(a.id);
    renderer.render(a, 'telegram');
    renderer.render(a, 'whatsapp');
    n++;
  }
  articlesOut = n;
  return performance.now() - t;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

// Memory first: one poll's worth. Polls are minutes apart in production, so collect before each run. The
// figure is the kernel's high-water mark (getrusage maxrss) taken before the speed rounds, whose 36 parses
// back to back, with no collection between them, would measure V8's appetite rather than a poll's needs.
for (let i = 0; i < 5; i++) {
  gc();
  whole();
}
const pollPeakRssMb = peakRssMb();

// Speed: steady state, the two paths interleaved round by round so machine noise hits both alike.
for (let i = 0; i < 3; i++) {
  bare();
  whole();
}
const bareTimes: number[] = [];
const wholeTimes: number[] = [];
const ratios: number[] = [];
for (let i = 0; i < 15; i++) {
  const b = bare();
  const w = whole();
  bareTimes.push(b);
  wholeTimes.push(w);
  ratios.push(w / b);
}

console.log(
  JSON.stringify({
    items: N,
    articles: articlesOut,
    feedBytes: bytes.length,
    bareMs: median(bareTimes),
    wholeMs: median(wholeTimes),
    ratio: median(ratios),
    itemsPerSecond: N / (median(wholeTimes) / 1000),
    peakRssMb: pollPeakRssMb,
    // The whole process's high-water mark, speed rounds included (for the record; not the target's figure).
    processPeakRssMb: peakRssMb(),
  }),
);
