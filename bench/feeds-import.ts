/**
 * `manchete feeds import` of a 1,000-feed OPML file, through the CLI's own entry point (`runCli`: read
 * the file, check every feed with the guarded fetcher and the parser, write the rows), against loopback
 * sites: 50 hosts (127.0.0.2 … 127.0.0.51, one HTTP server each), 20 feeds per host, each answer held
 * `delayMs` (50 ms by default) as a real site's round trip would be, each feed a 20-item RSS document.
 * Default limits: FEEDS_IMPORT_CONCURRENCY=16 overall, FEEDS_IMPORT_PER_HOST=2. Prints one JSON line.
 *
 *   node --import tsx bench/feeds-import.ts [feeds=1000] [delayMs=50]
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runCli } from '../src/cli.js';
import { peakRssMb } from './lib.js';

const FEEDS = Number(process.argv[2] ?? 1000);
const DELAY_MS = Number(process.argv[3] ?? 50);
const HOSTS = 50;

const feedXml = (host: number, n: number) => {
  const items = Array.from({ length: 20 }, (_, i) => {
    const d = new Date(Date.UTC(2026, 11, 1, 12) - i * 900_000).toUTCString();
    return `<item><title>Host ${host}, feed ${n}: notícia ${i} sobre o orçamento &amp; as contas públicas</title>
<link>https://site${host}.example/noticia/${n}/${i}</link><guid isPermaLink="false">h${host}-f${n}-${i}</guid>
<category>Economia</category><pubDate>${d}</pubDate>
<description><![CDATA[<p>Resumo da notícia ${i}: o governo anunciou medidas e o mercado reagiu; analistas ouvidos pela reportagem divergem sobre os efeitos no próximo trimestre.</p>]]></description></item>`;
  }).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Site ${host} / ${n}</title><link>https://site${host}.example/</link><description>x</description>\n${items}\n</channel></rss>`;
};

const servers: Server[] = [];
const origins: string[] = [];
let requests = 0;
for (let h = 0; h < HOSTS; h++) {
  const address = `127.0.0.${h + 2}`;
  const server = createServer((req, res) => {
    requests++;
    const n = Number(/\/feed\/(\d+)\.xml$/.exec(req.url ?? '')?.[1] ?? -1);
    setTimeout(() => {
      if (n < 0) return void res.writeHead(404).end();
      const body = feedXml(h, n);
      res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
    }, DELAY_MS);
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  servers.push(server);
  origins.push(`http://${address}:${(server.address() as AddressInfo).port}`);
}

const dir = mkdtempSync(join(tmpdir(), 'manchete-bench-opml-'));
const file = join(dir, 'feeds.opml');
// Feeds in host order, as readers export them (a folder per site): the per-host limit has to interleave.
const outlines = Array.from({ length: FEEDS }, (_, i) => {
  const host = Math.floor((i * HOSTS) / FEEDS);
  return `<outline type="rss" text="Feed ${i}" xmlUrl="${origins[host]}/feed/${i}.xml"/>`;
});
writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>bench</title></head><body>\n${outlines.join('\n')}\n</body></opml>`);

const out: string[] = [];
const err: string[] = [];
const started = performance.now();
const code = await runCli(['feeds', 'import', file], {
  out: (s) => out.push(s),
  err: (s) => err.push(s),
  env: { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, FEED_URLS: `${origins[0]}/feed/configured.xml`, FETCH_ALLOW_PRIVATE: '127.0.0.0/8', LOG_LEVEL: 'warn' },
});
const seconds = (performance.now() - started) / 1000;
for (const s of servers) s.close();
rmSync(dir, { recursive: true, force: true });
const summary = out.find((l) => l.includes(' feeds in ')) ?? '';
const added = Number(/ (\d+) added/.exec(summary)?.[1] ?? -1);
if (code !== 0 || added !== FEEDS) {
  process.stderr.write(`import failed (exit ${code}): ${summary}\n${[...err, ...out.filter((l) => l.startsWith('  '))].slice(0, 10).join('\n')}\n`);
  process.exit(1);
}
console.log(JSON.stringify({ feeds: FEEDS, hosts: HOSTS, delayMs: DELAY_MS, seconds, feedsPerSecond: FEEDS / seconds, requests, peakRssMb: peakRssMb() }));
