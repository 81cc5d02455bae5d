/**
 * The fake Bot API in its own process, so a benchmark measures Manchete's side of the HTTP exchange on
 * one core while the fake answers on the other. Prints `{"apiRoot": …}` once listening; answers
 * `stats` on stdin with its counters as one JSON line; exits on stdin close.
 *   node --import tsx bench/fake-telegram-process.ts [--no-limits]
 */
import { createInterface } from 'node:readline';
import { startFakeTelegram } from '../tests/fakes/telegram-api.js';

const limits = process.argv.includes('--no-limits') ? false : undefined;
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
