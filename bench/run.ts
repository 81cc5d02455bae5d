/**
 * `npm run bench`: every benchmark in a fresh process, printed as a table with the target beside the
 * figure. `npm run bench -- --quick` runs shorter versions (fewer chats) for a fast look.
 * Machines are shared and noisy: figures are medians within one run, and ratios compare two things
 * measured side by side in the same process.
 */
import { idleRss, median, runScenario } from './lib.js';

const quick = process.argv.includes('--quick');
type Row = { bench: string; measure: string; figure: string; target: string; ok: boolean };
const rows: Row[] = [];
const num = (v: unknown) => Number(v);

process.stderr.write('ingest (500-item feed)…\n');
const ingest = await runScenario('ingest');
rows.push(
  { bench: 'ingest 500 items', measure: 'whole path ÷ feedsmith bare parse (median)', figure: `${num(ingest.ratio).toFixed(2)}×`, target: '≤ 3×', ok: num(ingest.ratio) <= 3 },
  { bench: 'ingest 500 items', measure: 'items per second, one core (median)', figure: num(ingest.itemsPerSecond).toFixed(0), target: '≥ 2000', ok: num(ingest.itemsPerSecond) >= 2000 },
  { bench: 'ingest 500 items', measure: 'peak RSS (MB)', figure: num(ingest.peakRssMb).toFixed(0), target: '< 150', ok: num(ingest.peakRssMb) < 150 },
);

process.stderr.write('feeds import of a 1,000-feed OPML file (50 loopback hosts, 50 ms per answer)…\n');
const opml = await runScenario('feeds-import', ['1000', '50']);
rows.push({ bench: 'feeds import, 1,000 feeds', measure: 'seconds, all checked and added (16 at once, 2/host)', figure: num(opml.seconds).toFixed(1), target: '≤ 30', ok: num(opml.seconds) <= 30 });

const chats = quick ? 400 : 2000;
process.stderr.write(`Telegram fan-out to ${chats} private chats with limits enforced (about ${Math.round(chats / 29)} s)…\n`);
const limited = await runScenario('fanout', ['limited', String(chats)]);
rows.push(
  { bench: `fan-out ${chats} chats, limits on`, measure: 'achieved rate (msg/s) of the 30 msg/s ceiling', figure: `${num(limited.rate).toFixed(1)} (${((num(limited.rate) / 30) * 100).toFixed(1)}%)`, target: '≥ 28.5 (95%)', ok: num(limited.rate) >= 28.5 },
  { bench: `fan-out ${chats} chats, limits on`, measure: '429s provoked', figure: String(limited.tooMany), target: '0', ok: num(limited.tooMany) === 0 },
);

// 5,000 messages in either mode (the target's size), each run a fresh process: median of several, as one
// run of two seconds on a shared machine says little.
const unlimitedRuns = quick ? 3 : 5;
process.stderr.write(`Telegram, limits lifted, 5000 messages, ${unlimitedRuns} runs…\n`);
const rates: number[] = [];
for (let i = 0; i < unlimitedRuns; i++) rates.push(num((await runScenario('fanout', ['unlimited', '5000'])).rate));
const unlimitedRate = median(rates);
rows.push({
  bench: '5000 messages, limits off',
  measure: `Manchete overhead: messages/s over loopback HTTP, median of ${unlimitedRuns} (${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)})`,
  figure: unlimitedRate.toFixed(0),
  target: '≥ 3000',
  ok: unlimitedRate >= 3000,
});

const subs = quick ? 3000 : 10_000;
process.stderr.write(`Telegram paid broadcast to ${subs} private subscribers, 1000 msg/s enforced (about ${Math.round(subs / 970)} s)…\n`);
const paid = await runScenario('fanout', ['paid', String(subs)]);
rows.push(
  { bench: `paid fan-out ${subs} subscribers`, measure: 'achieved rate (msg/s) of the 1000 msg/s ceiling', figure: `${num(paid.rate).toFixed(0)} (${(num(paid.rate) / 10).toFixed(1)}%)`, target: '≥ 900 (90%)', ok: num(paid.rate) >= 900 },
  { bench: `paid fan-out ${subs} subscribers`, measure: '429s provoked', figure: String(paid.tooMany), target: '0', ok: num(paid.tooMany) === 0 },
  { bench: `paid fan-out ${subs} subscribers`, measure: 'peak RSS (MB)', figure: num(paid.peakRssMb).toFixed(0), target: '≤ 250', ok: num(paid.peakRssMb) <= 250 },
);

process.stderr.write('outbox with 100,000 pending deliveries…\n');
const backlog = await runScenario('fanout', ['backlog', '100000']);
rows.push({ bench: '100,000 pending deliveries', measure: 'peak RSS while draining (MB)', figure: num(backlog.peakRssMb).toFixed(0), target: '≤ 200', ok: num(backlog.peakRssMb) <= 200 });

process.stderr.write('instant intake: 20 stories each by publish hook, WebSub fat ping, polling at POLL_INTERVAL=5s (about 3½ min)…\n');
for (const m of ['webhook', 'websub', 'polling'] as const) {
  const r = await runScenario('latency', [m]), target = m === 'polling' ? 5000 + 1000 : 1000;
  rows.push({ bench: `latency ${m === 'polling' ? 'polling 5s' : m}, 20 stories`, measure: 'to the first channel message, p50 / p95 (ms)', figure: `${num(r.p50).toFixed(0)} / ${num(r.p95).toFixed(0)}`, target: `p50 ≤ ${target}`, ok: num(r.p50) <= target });
}
const feeds = quick ? '2,000 feeds, 2m' : '10,000 feeds, 10m';
process.stderr.write(`${feeds}: priming, then one full poll cycle (about ${quick ? 4 : 17} min)…\n`);
const scale = await runScenario('scale', quick ? ['quick'] : []);
rows.push(
  { bench: feeds, measure: 'every feed polled at its slot: max lateness (s)', figure: num(scale.lateMaxS).toFixed(1), target: '≤ 10 (a tick)', ok: num(scale.polled) === num(scale.feeds) && num(scale.lateMaxS) <= 10 },
  { bench: feeds, measure: 'CPU user+sys ÷ interval, one core', figure: `${num(scale.cpuPct).toFixed(1)}%`, target: '≤ 10%', ok: num(scale.cpuPct) <= 10 },
  { bench: feeds, measure: 'peak RSS (MB)', figure: num(scale.peakRssMb).toFixed(0), target: '≤ 250', ok: num(scale.peakRssMb) <= 250 },
  { bench: feeds, measure: 'new items queued exactly once', figure: `${num(scale.queuedArticles)}/${num(scale.newItems)}`, target: 'all, once', ok: scale.exactlyOnce === true },
);

process.stderr.write('npm start, idle (preview mode; then with WhatsApp enabled but unreachable)…\n');
const idle = await idleRss({});
// No preview when a platform is on: idle from WhatsApp's first failed attempt (it then backs off).
const idleWhatsApp = await idleRss({ WHATSAPP_ENABLED: 'true' }, '"state":"reconnecting"');
rows.push({ bench: 'npm start, idle, preview', measure: 'RSS 5 s / 30 s after "Watching…" (MB; target: 30 s)', figure: `${idle.early.toFixed(0)} / ${idle.settled.toFixed(0)}`, target: '≤ 100', ok: idle.settled <= 100 });
rows.push({ bench: 'npm start, idle, WhatsApp on', measure: 'RSS 5 s / 30 s, WhatsApp unreachable (MB; target: 30 s)', figure: `${idleWhatsApp.early.toFixed(0)} / ${idleWhatsApp.settled.toFixed(0)}`, target: '≤ 100', ok: idleWhatsApp.settled <= 100 });

const w = { bench: 28, measure: 48, figure: 14, target: 13 };
const line = (r: { bench: string; measure: string; figure: string; target: string }, mark: string) =>
  `${r.bench.padEnd(w.bench)} ${r.measure.padEnd(w.measure)} ${r.figure.padStart(w.figure)}  ${r.target.padEnd(w.target)} ${mark}`;
console.log('');
console.log(line({ bench: 'benchmark', measure: 'measure', figure: 'figure', target: 'target' }, ''));
console.log('-'.repeat(w.bench + w.measure + w.figure + w.target + 8));
for (const r of rows) console.log(line(r, r.ok ? 'ok' : 'MISSED'));
console.log(
  `\nRun from the compiled build (dist/, what \`npm start\` runs). Under \`npm run dev\` (tsx) the process carries about 35 MB more.`,
);
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
