/**
 * Ten thousand feeds on one core. A loopback news "internet" (50 hosts, 127.0.0.1–127.0.0.50, 200 feeds
 * each, 10 items per feed, conditional GET by ETag) and `manchete start` in its own process, with a
 * SQLite file and the fake Bot API (its own process) as the destination.
 *   1. Priming: a first Manchete process polls every feed once (first polls record the backlog), then stops.
 *   2. 1% of the feeds get one new item (and a new ETag); the other 99% will answer 304.
 *   3. The measured run: a fresh Manchete process runs until every feed has been polled once more (one full
 *      cycle) and the new items are queued. Its CPU (user + sys) and peak RSS come from /proc/<pid>.
 *      CPU % is the process's whole CPU (boot and idle included) over one interval.
 *   scale.ts            10,000 feeds, POLL_INTERVAL=10m
 *   scale.ts quick      2,000 feeds, POLL_INTERVAL=2m (the same polls per second)
 * BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to the measured process.
 * Prints one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Sqlite from 'better-sqlite3';
import { packageRoot } from '../src/paths.js';
import { fakeTelegramProcess } from './lib.js';

const quick = process.argv.includes('quick');
const FEEDS = quick ? 2000 : 10_000;
const INTERVAL_MS = quick ? 120_000 : 600_000;
const HOSTS = 50;
const ITEMS = 10;
const CHANGED_EVERY = 100; // 1%
const TOKEN = '123456789:AAH-bench_token_0123456789abcdefghijk';
const CHAT = '4242';

const dir = mkdtempSync(join(tmpdir(), 'manchete-scale-'));
const dbFile = join(dir, 'm.db');
const version = new Uint8Array(FEEDS).fill(1);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const base = Date.now() - 6 * 3_600_000;

function feedXml(i: number): string {
  const items: string[] = [];
  if (version[i] === 2) items.push(item(`novo-item-${i}`, `Notícia nova do site ${i}`, Date.now() - 60_000));
  for (let k = 0; k < ITEMS; k++) items.push(item(`f${i}-i${k}`, `Notícia ${k} do site ${i}: governo & mercado`, base - k * 600_000));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Site ${i}</title><link>https://site${i}.example/</link><description>Notícias</description>\n${items.join('\n')}\n</channel></rss>`;
}
function item(guid: string, title: string, at: number): string {
  return `<item><title>${esc(title)}</title><link>https://site.example/${guid}</link><guid isPermaLink="false">${guid}</guid><category>Política</category><pubDate>${new Date(at).toUTCString()}</pubDate><description>${esc(`Resumo de ${title}, com detalhes suficientes para virar o lead da mensagem enviada aos leitores do canal.`)}</description></item>`;
}

// The sites. Each request is counted; the measured cycle's first request per feed is timed.
let served = 0;
let notModified = 0;
const firstAt = new Float64Array(FEEDS);
const servers: Server[] = [];
const urls: string[] = [];
for (let h = 0; h < HOSTS; h++) {
  const address = `127.0.0.${h + 1}`;
  const server = createServer((req, res) => {
    const i = Number(/^\/f\/(\d+)\.xml$/.exec(req.url ?? '')?.[1] ?? -1);
    if (!(i >= 0 && i < FEEDS)) {
      res.writeHead(404).end();
      return;
    }
    served++;
    if (firstAt[i] === 0) firstAt[i] = Date.now();
    const etag = `"${i}-v${version[i]}"`;
    if (req.headers['if-none-match'] === etag) {
      notModified++;
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag }).end(feedXml(i));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, address, r));
  servers.push(server);
}
for (let i = 0; i < FEEDS; i++) {
  const h = i % HOSTS;
  const port = (servers[h]!.address() as { port: number }).port;
  urls.push(`http://127.0.0.${h + 1}:${port}/f/${i}.xml`);
}
const routesFile = join(dir, 'routes.json');
writeFileSync(routesFile, JSON.stringify({ feeds: urls.map((url) => ({ url })) }));

const fake = await fakeTelegramProcess({ limits: true });
const compiled = import.meta.url.endsWith('.js');
const root = packageRoot(import.meta.url);
const cli = compiled ? join(root, 'dist', 'src', 'cli.js') : join(root, 'src', 'cli.ts');
const guard = fileURLToPath(new URL(`./loopback-only.${compiled ? 'js' : 'ts'}`, import.meta.url));

function manchete(extraArgs: string[]): ChildProcess {
  const child = spawn(process.execPath, [...extraArgs, ...(compiled ? [] : ['--import', 'tsx']), '--import', guard, cli, 'start'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      DATABASE_URL: `sqlite:${dbFile}`,
      FEED_URLS: urls[0]!,
      ROUTES_FILE: routesFile,
      POLL_INTERVAL: `${INTERVAL_MS / 1000}s`,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_CHATS: CHAT,
      FETCH_PAGES: 'false',
      HTTP_PORT: '0',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  return child;
}
const stop = (child: ChildProcess) =>
  new Promise<void>((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ticks = 100; // getconf CLK_TCK on Linux
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks;
}
function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}
function count(sql: string): number {
  if (!existsSync(dbFile)) return 0;
  const db = new Sqlite(dbFile, { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare(sql).get() as { n: number }).n);
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

// 1. Priming.
const p0 = Date.now();
const primer = manchete([]);
let primeCpu = 0;
let primePeak = 0;
for (;;) {
  await sleep(2000);
  if (primer.exitCode !== null) throw new Error(`the priming process exited with ${primer.exitCode}`);
  primeCpu = cpuSeconds(primer.pid!);
  primePeak = peakRssMb(primer.pid!);
  if (count('select count(*) as n from feeds where primed_at is not null') >= FEEDS) break;
  if (Date.now() - p0 > 30 * 60_000) throw new Error('priming took more than 30 minutes');
}
const primeSeconds = (Date.now() - p0) / 1000;
await stop(primer);

// 2. One feed in a hundred gets a new item.
let changed = 0;
for (let i = 0; i < FEEDS; i += CHANGED_EVERY) {
  version[i] = 2;
  changed++;
}
const expected = new Map<number, number>();
{
  const db = new Sqlite(dbFile, { readonly: true });
  for (const r of db.prepare('select url, next_poll_at from feeds').all() as { url: string; next_poll_at: string }[]) {
    const i = Number(/\/f\/(\d+)\.xml$/.exec(r.url)?.[1]);
    expected.set(i, Date.parse(r.next_poll_at));
  }
  db.close();
}
served = 0;
notModified = 0;
firstAt.fill(0);

// 3. The measured cycle.
const t0 = Date.now();
const child = manchete((process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean));
let cpu = 0;
let peak = 0;
const polledAll = () => firstAt.every((t) => t > 0);
for (;;) {
  await sleep(1000);
  if (child.exitCode !== null) throw new Error(`the measured process exited with ${child.exitCode}`);
  cpu = cpuSeconds(child.pid!);
  peak = peakRssMb(child.pid!);
  if (polledAll() && count("select count(*) as n from deliveries where kind = 'article'") >= changed) break;
  if (Date.now() - t0 > 2.5 * INTERVAL_MS) break;
}
const tEnd = Date.now();
await sleep(3000); // a poll answered at the very end is recorded; nothing more may be queued
cpu = cpuSeconds(child.pid!);
peak = peakRssMb(child.pid!);
await stop(child);
const fakeStats = await fake.stats();
await fake.stop();
for (const s of servers) s.close();

const db = new Sqlite(dbFile, { readonly: true });
const queued = db.prepare("select a.id as id, count(*) as n from deliveries d join articles a on a.id = d.article_id where d.kind = 'article' group by a.id").all() as { id: string; n: number }[];
const articles = Number((db.prepare('select count(*) as n from articles').get() as { n: number }).n);
db.close();
const newIds = new Set(Array.from({ length: changed }, (_, k) => `guid:novo-item-${k * CHANGED_EVERY}`));
const exactlyOnce = queued.length === changed && queued.every((q) => q.n === 1 && newIds.has(q.id));
const dbBytes = [dbFile, `${dbFile}-wal`].reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
const times = [...firstAt].filter((t) => t > 0);
const late = [...expected].map(([i, at]) => Math.max(0, firstAt[i]! - at)).sort((a, b) => a - b);
rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    feeds: FEEDS,
    intervalS: INTERVAL_MS / 1000,
    polled: times.length,
    notModified,
    served,
    cycleSpanS: (Math.max(...times) - Math.min(...times)) / 1000,
    cycleEndAfterStartS: (Math.max(...times) - t0) / 1000,
    runS: (tEnd - t0) / 1000,
    lateP99S: (late[Math.floor(late.length * 0.99)] ?? 0) / 1000,
    lateMaxS: (late.at(-1) ?? 0) / 1000,
    cpuS: cpu,
    cpuPct: (cpu / (INTERVAL_MS / 1000)) * 100,
    peakRssMb: peak,
    dbMb: dbBytes / 1024 / 1024,
    articles,
    newItems: changed,
    queuedArticles: queued.length,
    exactlyOnce,
    sent: fakeStats.sent,
    prime: { seconds: primeSeconds, cpuS: primeCpu, peakRssMb: primePeak },
  }),
);
