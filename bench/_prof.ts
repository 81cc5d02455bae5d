/** Scratch profiler (delete before finishing): whole ingest path only, many rounds, per-stage timing. */
import { parseFeed as feedsmithParse } from 'feedsmith';
import { resolve } from 'node:path';
import { decodeBody } from '../src/sources/decode.js';
import { parseFeed } from '../src/sources/parse.js';
import { normalizeItem } from '../src/articles/normalize.js';
import { createRenderer } from '../src/render/renderer.js';
import type { Article } from '../src/articles/article.js';
import { median } from './lib.js';

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
const ROUNDS = Number(process.env.ROUNDS ?? 40);
const T: Record<string, number[]> = { bare: [], parse: [], norm: [], render: [], whole: [] };
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  feedsmithParse(new TextDecoder().decode(bytes));
  T.bare!.push(performance.now() - t);
  const t0 = performance.now();
  const text = decodeBody(bytes, 'application/rss+xml; charset=utf-8');
  const p = parseFeed(text, 'https://www.exemplo.com.br/feed');
  T.parse!.push(performance.now() - t0);
  t = performance.now();
  const arts: Article[] = p.items.map((i) => normalizeItem(i, { feedUrl: 'https://www.exemplo.com.br/feed', summaryMaxChars: 300 })!);
  T.norm!.push(performance.now() - t);
  t = performance.now();
  for (const a of arts) {
    renderer.render(a, 'telegram');
    renderer.render(a, 'whatsapp');
  }
  T.render!.push(performance.now() - t);
  T.whole!.push(performance.now() - t0);
}
console.log(Object.entries(T).map(([k, v]) => `${k} ${median(v.slice(5)).toFixed(1)}`).join('  '));
