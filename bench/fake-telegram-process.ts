/**
 * The fake Bot API in its own process, so a benchmark measures Manchete's side of the HTTP exchange on
 * one core while the fake answers on the other. Prints `{"apiRoot": …}` once listening; answers
 * `stats` on stdin with its counters as one JSON line; exits on stdin close.
 *   node --import tsx bench/fake-telegram-process.ts [--no-limits] [--warm <requests>]
 *
 * `--warm` first sends that many messages, over loopback HTTP, to a second fake in this process (the same
 * code, its own counters and limits), then closes it: Telegram's servers are always warm, and a cold fake
 * (its first seconds spent compiling its own JavaScript) would cap a short run at its own pace and count
 * its warm-up against Manchete. The fake that answers the benchmark starts with empty counters.
 */
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { startFakeTelegram } from '../tests/fakes/telegram-api.js';

const limits = process.argv.includes('--no-limits') ? false : undefined;
const warmArg = process.argv.indexOf('--warm');
const warm = warmArg > 0 ? Number(process.argv[warmArg + 1]) : 0;
if (warm > 0) await warmUp(warm);
const fake = await startFakeTelegram({ autoPrivateChats: true, ...(limits === false ? { limits: false } : {}) });
process.stdout.write(`${JSON.stringify({ apiRoot: fake.apiRoot })}\n`);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === 'stats') {
    const sent = fake.sent;
    const first = sent[0]?.time ?? 0;
    const last = sent.at(-1)?.time ?? 0;
    process.stdout.write(`${JSON.stringify({ ...fake.stats, sent: sent.length, firstAt: first, lastAt: last })}\n`);
  }
});
rl.on('close', () => {
  void fake.close().then(() => process.exit(0));
});

async function warmUp(requests: number): Promise<void> {
  const spare = await startFakeTelegram({ autoPrivateChats: true, limits: false });
  const root = new URL(spare.apiRoot);
  const pool = new Pool(root.origin, { connections: 32 });
  const path = `${root.pathname.replace(/\/$/, '')}/bot123456789:AAH-warm_up_token_0123456789abcdefghijk/sendMessage`;
  let next = 0;
  const one = async (i: number) => {
    const body = JSON.stringify({ chat_id: String(900_000 + (i % 5000)), text: `<b>Aquecimento ${i}</b>\n\nUma mensagem do tamanho de um resumo, com <a href="https://exemplo.manchete.dev/${i}">link</a>.`, parse_mode: 'HTML' });
    const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.body.text();
  };
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < requests) await one(next++);
  }));
  await pool.close();
  await spare.close();
}
