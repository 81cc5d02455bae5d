import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { TOKEN } from '../platforms/telegram/helpers.js';
import { rss, tempDir, until, type Story } from './helpers.js';

/**
 * `manchete start` as a child process, the way an operator runs it, against a fake news site and the
 * fake Bot API: the messages that arrive, a clean SIGTERM, and a SIGKILL in the middle of a fan-out.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHANNEL = -1001000000100;
const GROUP = -1001000000200;
const STORIES: Story[] = Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, title: `Matéria número ${i}`, section: 'Brasil', minute: i }));

let children: ChildProcess[] = [];
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  children = [];
  for (const c of closers.reverse()) await c();
  closers = [];
});

async function world() {
  const dir = tempDir('manchete-proc-');
  const site: FeedServer = await startFeedServer({});
  site.route('/feed.xml', () => ({ body: rss(site.origin, STORIES), contentType: 'application/rss+xml' }));
  const fake: FakeTelegram = await startFakeTelegram({ token: TOKEN, limits: { perChatPerSecond: 100, perGroupPerMinute: 100_000 } });
  fake.addChat({ id: CHANNEL, type: 'channel', username: 'canal', title: 'Canal', botIsAdmin: true, canPost: true });
  fake.addChat({ id: GROUP, type: 'supergroup', title: 'Grupo', botIsAdmin: true });
  closers.push(async () => {
    await fake.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    FEED_URLS: site.urlFor('/feed.xml'),
    BACKFILL: '30',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_CHATS: `@canal,${GROUP}`,
    TELEGRAM_CHAT_GAP: '100ms',
    TELEGRAM_GROUP_PER_MINUTE: '1000',
    HTTP_PORT: '0',
    FETCH_PAGES: 'false',
    LOG_LEVEL: 'warn',
  };
  return { fake, env };
}

function startProcess(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const titlesIn = (fake: FakeTelegram, chat: number) => fake.sentTo(chat).map((m) => /Matéria número \d+/.exec(m.plain)?.[0] ?? '?');

describe('manchete start as a process', () => {
  it('posts the backfilled articles to each chat in order, then stops cleanly on SIGTERM', async () => {
    const { fake, env } = await world();
    const p = startProcess({ ...env, BACKFILL: '5' });
    await fake.waitFor(() => fake.sent.length === 10, 30_000, 'ten posts');
    const expected = STORIES.slice(-5).map((s) => s.title);
    expect(titlesIn(fake, CHANNEL)).toEqual(expected);
    expect(titlesIn(fake, GROUP)).toEqual(expected);
    expect(p.output()).toContain('@canal: ok, can post');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output()).not.toContain(TOKEN);
  }, 40_000);

  it('a second start on the same database refuses with one line naming the first; the first delivers everything once', async () => {
    const { fake, env } = await world();
    const first = startProcess(env);
    await fake.waitFor(() => fake.sent.length >= 5, 30_000, 'five posts');
    const second = startProcess(env);
    expect(await second.exited).toBe(1);
    const lines = second.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^manchete: another Manchete is already running on this database \\(pid ${first.child.pid} on [^,]+, since \\d{4}-`));
    await until(() => fake.sent.length >= 60, 40_000, 'every article in both chats');
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.sent).toHaveLength(60);
    for (const chat of [CHANNEL, GROUP]) expect(titlesIn(fake, chat)).toEqual(STORIES.map((s) => s.title));
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 90_000);

  it('SIGKILL in the middle of a fan-out loses nothing; duplicates stay within the sends in flight', async () => {
    const { fake, env } = await world();
    const first = startProcess(env);
    await fake.waitFor(() => fake.sent.length >= 20, 30_000, 'twenty posts');
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = fake.sent.length;
    expect(atKill).toBeLessThan(60);
    // What each chat had received when the process died: a repeat may only be of its last message.
    const lastBeforeKill = new Map([CHANNEL, GROUP].map((chat) => [chat, titlesIn(fake, chat).at(-1)]));

    const second = startProcess(env);
    // The killed process left its lock row behind; its pid is dead, so the new start takes it over at once.
    await until(() => second.output().includes('is gone; taking over its lock'), 30_000, 'the stale lock taken over');
    await until(() => new Set(titlesIn(fake, CHANNEL)).size === 30 && new Set(titlesIn(fake, GROUP)).size === 30, 40_000, 'every article in both chats');
    await new Promise((r) => setTimeout(r, 500));
    const duplicates = fake.sent.length - 60;
    // One send per chat can be in flight when the process dies: two chats, at most two repeats.
    expect(duplicates).toBeLessThanOrEqual(2);
    for (const chat of [CHANNEL, GROUP]) {
      const seen = titlesIn(fake, chat);
      const repeated = [...new Set(seen.filter((t, i) => seen.indexOf(t) !== i))];
      // At most the one message in flight to this chat at the kill, and only that one.
      expect(repeated.length).toBeLessThanOrEqual(1);
      if (repeated.length) expect(repeated[0]).toBe(lastBeforeKill.get(chat));
    }
    for (const chat of [CHANNEL, GROUP]) {
      const seen = titlesIn(fake, chat);
      // Order holds per chat (a repeat can only be of the last message before the kill).
      const firstIndex = STORIES.map((s) => seen.indexOf(s.title));
      expect([...firstIndex].sort((a, b) => a - b)).toEqual(firstIndex);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
