import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { articlePage, rss } from '../e2e/helpers.js';

/** A feed title (as the feed writes it: `Lula &amp; Xi discutem &lt;comércio&gt; …`) that quotes a word in angle brackets. */
const TEXT_TITLE = 'Lula & Xi discutem <comércio> em reunião "bilateral"';

const SAMPLE = fileURLToPath(new URL('../../examples/feed.xml', import.meta.url));

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: { FETCH_PAGES: 'false', FETCH_ALLOW_PRIVATE: '127.0.0.1/32', ...env } });
  return { code, out, err };
}

let site: FeedServer;
beforeAll(async () => {
  site = await startFeedServer({});
  site.route('/feed/', () => ({
    body: rss(site.origin, [
      { id: 'x1', title: 'Primeira', section: 'Mundo', minute: 1 },
      { id: 'x2', title: 'Segunda', section: 'Política', minute: 2 },
    ]),
    contentType: 'application/rss+xml',
  }));
  site.route('/', {
    body: `<html><head><title>Site</title><link rel="alternate" type="application/rss+xml" href="/feed/"></head><body>capa</body></html>`,
    contentType: 'text/html',
  });
  site.route('/materia', {
    body: articlePage(site.urlFor('/materia'), { title: 'Uma matéria', lead: 'O lead da matéria, com informação suficiente para o resumo.', section: 'Brasil' }),
    contentType: 'text/html; charset=utf-8',
  });
  site.route('/quebrado', { status: 500, body: 'oops' });
  site.route('/titulos/', () => ({
    body: rss(site.origin, [{ id: 't1', title: TEXT_TITLE, section: 'Mundo', lead: 'Vêm coisas feias e perigosas por aí.', minute: 1 }]),
    contentType: 'application/rss+xml',
  }));
});
afterAll(() => site.close());

describe('manchete preview', () => {
  it('prints one JSON object per article, in the documented shape', async () => {
    const r = await run(['preview', SAMPLE, '--json', '--limit', '2']);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(2);
    const first = JSON.parse(r.out[0]!) as Record<string, any>;
    expect(Object.keys(first.article).sort()).toEqual(['author', 'id', 'imageUrl', 'lead', 'publishedAt', 'section', 'title', 'url']);
    expect(first.article.section).toBe('Mundo');
    expect(first.article.lead).toMatch(/^O líder da Coreia do Norte afirmou/);
    expect(first.article.url).not.toContain('utm_');
    expect(first.telegram[0]).toMatchObject({ kind: 'photo', imageUrl: 'https://exemplo.manchete.dev/img/kim-shoigu.jpg' });
    expect(first.whatsapp[0].kind).toBe('text');
    const all = JSON.stringify(first);
    for (const promo of ['Receba as notícias', 'Assine o 247', 'iBest', 'Relacionados']) expect(all).not.toContain(promo);
  });

  it('keeps angle-bracketed words of a title as text, escaped for Telegram, and a short deck as the lead', async () => {
    const r = await run(['preview', site.urlFor('/titulos/'), '--json']);
    expect(r.code).toBe(0);
    const obj = JSON.parse(r.out[0]!) as { article: { title: string; lead: string }; telegram: { text: string }[]; whatsapp: { text: string }[] };
    expect(obj.article.title).toBe(TEXT_TITLE);
    expect(obj.article.lead).toBe('Vêm coisas feias e perigosas por aí.');
    expect(obj.telegram[0]!.text).toContain('<b>Lula &amp; Xi discutem &lt;comércio&gt; em reunião &quot;bilateral&quot;</b>');
    expect(obj.telegram[0]!.text).toContain('Vêm coisas feias e perigosas por aí.');
    expect(obj.whatsapp[0]!.text).toContain('Lula & Xi discutem <comércio> em reunião "bilateral"');
  });

  it('--platform telegram leaves WhatsApp out', async () => {
    const r = await run(['preview', SAMPLE, '--json', '--limit', '1', '--platform', 'telegram']);
    const obj = JSON.parse(r.out[0]!) as Record<string, unknown>;
    expect(obj.telegram).toBeDefined();
    expect(obj.whatsapp).toBeUndefined();
  });

  it('prints human-readable blocks by default', async () => {
    const r = await run(['preview', SAMPLE, '--limit', '1']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('[telegram]');
    expect(r.out[0]).toContain('[whatsapp]');
  });

  it('follows the feed a home page advertises', async () => {
    const r = await run(['preview', site.urlFor('/'), '--json']);
    expect(r.code).toBe(0);
    expect(r.out.map((l) => (JSON.parse(l) as { article: { title: string } }).article.title)).toEqual(['Segunda', 'Primeira']);
  });

  it('reads an article page as one article', async () => {
    const r = await run(['preview', site.urlFor('/materia'), '--json']);
    expect(r.code).toBe(0);
    const a = (JSON.parse(r.out[0]!) as { article: { title: string; section: string } }).article;
    expect(a).toMatchObject({ title: 'Uma matéria', section: 'Brasil' });
  });

  it('unreachable or invalid input: exit 1 and one line', async () => {
    for (const input of [site.urlFor('/quebrado'), 'nao-existe.xml', 'http://127.0.0.1:9/feed']) {
      const r = await run(['preview', input]);
      expect(r.code, input).toBe(1);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]!.split('\n')).toHaveLength(1);
    }
    expect((await run(['preview', site.urlFor('/quebrado')])).err[0]).toContain('500');
  });

  it('bad arguments and bad configuration are one clear line', async () => {
    expect((await run(['preview'])).err[0]).toContain('preview needs a feed URL');
    expect((await run(['preview', SAMPLE, '--limit', 'x'])).err[0]).toContain('--limit');
    expect((await run(['preview', SAMPLE, '--platform', 'signal'])).err[0]).toContain('--platform');
    expect((await run(['bogus'])).err[0]).toContain('unknown command "bogus"');
    const bad = await run(['preview', SAMPLE], { POLL_INTERVAL: '2 minutos' });
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toContain('POLL_INTERVAL="2 minutos" is not a duration');
  });

  it('--explain says for each destination whether each article goes there and why, in text and JSON', async () => {
    const { tempDir } = await import('../e2e/helpers.js');
    const { rmSync, writeFileSync } = await import('node:fs');
    const dir = tempDir();
    const routes = `${dir}/routes.yaml`;
    writeFileSync(
      routes,
      [
        'destinations:',
        '  - { platform: telegram, chat: "@mundo", include: { sections: [Mundo] } }',
        '  - { platform: telegram, chat: "-1001234:42", exclude: { keywords: [Segunda] } }',
        `  - { platform: whatsapp, chat: "120363000000000000@newsletter", feeds: ["${site.urlFor('/outro/')}"] }`,
      ].join('\n'),
    );
    try {
      const env = { ROUTES_FILE: routes };
      const text = await run(['preview', site.urlFor('/feed/'), '--explain', '--platform', 'telegram'], env);
      expect(text.code, text.err.join('\n')).toBe(0);
      const segunda = text.out.find((b) => b.includes('Segunda'))!;
      const primeira = text.out.find((b) => b.includes('Primeira'))!;
      expect(segunda.split('\n').filter((l) => l.startsWith('[routing]'))).toEqual([
        '[routing] telegram:@mundo: does not go (matches no include rule)',
        '[routing] telegram:-1001234:42: does not go (excluded by keyword "Segunda" in title)',
        `[routing] whatsapp:120363000000000000@newsletter: does not go (feed ${site.urlFor('/feed/')} is not in its feeds)`,
      ]);
      expect(primeira).toContain('[routing] telegram:@mundo: goes (included by section "Mundo")');
      expect(primeira).toContain('[routing] telegram:-1001234:42: goes (matches no exclude rule)');

      const json = await run(['preview', site.urlFor('/feed/'), '--explain', '--json'], env);
      const first = JSON.parse(json.out.find((l) => l.includes('Primeira'))!) as { explain: { destination: string; pass: boolean; reason: string }[] };
      expect(first.explain.map((e) => [e.destination, e.pass])).toEqual([
        ['telegram:@mundo', true],
        ['telegram:-1001234:42', true],
        ['whatsapp:120363000000000000@newsletter', false],
      ]);
      // Without --explain the JSON shape is unchanged.
      const plain = JSON.parse((await run(['preview', site.urlFor('/feed/'), '--json'], env)).out[0]!) as Record<string, unknown>;
      expect(plain.explain).toBeUndefined();
      // No destination configured: it says so.
      expect((await run(['preview', site.urlFor('/feed/'), '--explain', '--limit', '1'])).out[0]).toContain('[routing] no destination is configured');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes nothing to the database', async () => {
    const r = await run(['preview', SAMPLE, '--json'], { DATABASE_URL: 'sqlite:/nonexistent-dir/should-not-be-created.db' });
    expect(r.code).toBe(0);
  });
});

describe('manchete help', () => {
  it('lists every command', async () => {
    const r = await run(['help']);
    for (const c of ['start', 'preview', 'push', 'whatsapp login', 'feeds', 'feeds add', 'feeds remove', 'feeds list', 'feeds import', 'feeds export', 'requeue', 'doctor']) expect(r.out[0]).toContain(c);
    expect(readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')).toContain('manchete preview');
  });
});

describe('manchete doctor, push and feeds', () => {
  it('doctor checks every destination and fails when one cannot be posted to', async () => {
    const { startFakeTelegram } = await import('../fakes/telegram-api.js');
    const { TOKEN } = await import('../platforms/telegram/helpers.js');
    const { tempDir } = await import('../e2e/helpers.js');
    const fake = await startFakeTelegram({ token: TOKEN });
    fake.addChat({ id: -1001, type: 'channel', username: 'canalbom', botIsAdmin: true, canPost: true });
    fake.addChat({ id: -1002, type: 'channel', username: 'semdireito', botIsAdmin: false });
    const dir = tempDir();
    const env = { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, DATABASE_URL: `sqlite:${dir}/db.sqlite` };
    try {
      const ok = await run(['doctor'], { ...env, TELEGRAM_CHATS: '@canalbom' });
      expect(ok.code, [...ok.out, ...ok.err].join('\n')).toBe(0);
      expect(ok.out).toContain('@canalbom: ok, can post');
      const bad = await run(['doctor'], { ...env, TELEGRAM_CHATS: '@canalbom,@semdireito' });
      expect(bad.code).toBe(1);
      expect(bad.out.find((l) => l.startsWith('@semdireito'))).toContain('not an administrator');

      const pushed = await run(['push', site.urlFor('/materia'), '@canalbom'], { ...env, TELEGRAM_CHATS: '@canalbom,@semdireito' });
      expect(pushed.code).toBe(0);
      expect(pushed.out[0]).toContain('queued "Uma matéria" for 1 destination(s): telegram:@canalbom');
      const unknown = await run(['push', site.urlFor('/materia'), '@outro'], { ...env, TELEGRAM_CHATS: '@canalbom' });
      expect(unknown.code).toBe(1);
      expect(unknown.err[0]).toContain('"@outro" is not a configured destination');

      const { openStore } = await import('../../src/store/db.js');
      const store = await openStore(env.DATABASE_URL);
      const rows = await store.db.selectFrom('deliveries').selectAll().execute();
      await store.close();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ destination_id: 'telegram:@canalbom', status: 'pending', priority: 10 });

      const feeds = await run(['feeds'], env);
      expect(feeds.code).toBe(0);

      // A delivery that failed during an outage is queued again by `requeue`; one of a dead destination is not.
      const again = await openStore(env.DATABASE_URL);
      await again.db.updateTable('deliveries').set({ status: 'failed', attempts: 8, updated_at: new Date().toISOString() }).execute();
      const { DestinationRegistry } = await import('../../src/delivery/destinations.js');
      const { Outbox } = await import('../../src/delivery/outbox.js');
      const registry = new DestinationRegistry(again.db);
      await registry.upsert({ id: 'telegram:@fechado', platform: 'telegram', chatId: '@fechado', threadId: null, options: {} });
      await registry.markDead('telegram:@fechado', 'Forbidden: bot was kicked');
      const [deadRow] = await new Outbox(again.db).enqueue([{ articleId: 'z', destinationId: 'telegram:@fechado', kind: 'article', priority: 0, payload: [] }]);
      await again.db.updateTable('deliveries').set({ status: 'failed' }).where('id', '=', deadRow!).execute();
      await again.close();
      const requeued = await run(['requeue', '--since', '1h'], env);
      expect(requeued.out[0]).toMatch(/^1 failed deliveries from the last 1h are queued again/);
      const after = await openStore(env.DATABASE_URL);
      expect(await after.db.selectFrom('deliveries').select(['status', 'attempts']).orderBy('id').execute()).toEqual([
        { status: 'pending', attempts: 0 },
        { status: 'failed', attempts: 0 },
      ]);
      await after.close();
      expect((await run(['requeue', '--since', 'ontem'], env)).err[0]).toContain('--since is a duration');
    } finally {
      await fake.close();
      const { rmSync } = await import('node:fs');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('manchete status', () => {
  it('on SQLite: no instance running, then the one holding the lock', async () => {
    const { tempDir } = await import('../e2e/helpers.js');
    const { openStore } = await import('../../src/store/db.js');
    const { acquireInstanceLock } = await import('../../src/store/instance-lock.js');
    const dir = tempDir();
    const env = { DATABASE_URL: `sqlite:${dir}/db.sqlite` };
    const none = await run(['status'], env);
    expect(none.code).toBe(0);
    expect(none.out.join('\n')).toContain('No instance is running on this database (SQLite: one process at a time).');
    const store = await openStore(env.DATABASE_URL);
    const lock = await acquireInstanceLock(store.db, { host: 'h1', pid: 4242 });
    try {
      const one = await run(['status'], env);
      expect(one.out.join('\n')).toMatch(/^1 instance \(SQLite: one process at a time\)\nh1:4242:\S+ {2}pid 4242 on h1 {2}since \d{4}-/);
    } finally {
      await lock.release();
      await store.close();
    }
    const help = await run(['status', '--help'], env);
    expect(help.out.join('\n')).toContain('--all');
  });
});
