import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openStore } from '../../src/store/db.js';
import { readOpml } from '../../src/sources/opml.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { rss, tempDir } from '../e2e/helpers.js';

let site: FeedServer;
let dir: string;
let env: Record<string, string>;

async function run(args: string[], extra: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: { ...env, ...extra } });
  return { code, out, err };
}

beforeAll(async () => {
  site = await startFeedServer({});
  for (const [name, section] of [['politica', 'Política'], ['economia', 'Economia'], ['cultura', 'Cultura'], ['config', 'Mundo']] as const)
    site.route(`/${name}.xml`, {
      body: rss(site.origin, [
        { id: `${name}-1`, title: `Primeira de ${name}`, section, minute: 1 },
        { id: `${name}-2`, title: `Segunda de ${name}`, section, minute: 2 },
      ]),
      contentType: 'application/rss+xml',
    });
  site.route('/pagina', { body: '<!doctype html><html><head><title>Capa</title></head><body>capa</body></html>', contentType: 'text/html' });
  dir = tempDir('manchete-cli-feeds-');
  env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, FEED_URLS: site.urlFor('/config.xml'), FETCH_ALLOW_PRIVATE: '127.0.0.1/32', FETCH_TIMEOUT: '2s', USER: 'ana' };
});
afterAll(async () => {
  await site.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('manchete feeds: help and bad arguments touch nothing', () => {
  it('--help of every subcommand prints its usage and opens no database', async () => {
    const none = { DATABASE_URL: `sqlite:${join(dir, 'never', 'db.sqlite')}`, POLL_INTERVAL: 'not even valid' };
    for (const sub of ['list', 'add', 'remove', 'import', 'export']) {
      const r = await run(['feeds', sub, '--help'], none);
      expect(r.code, sub).toBe(0);
      expect(r.out[0]).toMatch(new RegExp(`^Usage: manchete feeds ${sub}`));
    }
    expect((await run(['feeds', 'add', '--help'], none)).out[0]).toContain('--section S');
    expect((await run(['feeds', '--help'], none)).out[0]).toContain('Subcommands: list (the default), add, remove, import, export');
    expect((await run(['help', 'feeds', 'import'], none)).out[0]).toContain('--per-host N');
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('an unknown option, subcommand or bad value is one line and exit 1, before anything runs', async () => {
    const none = { DATABASE_URL: `sqlite:${join(dir, 'never', 'db.sqlite')}` };
    const cases: [string[], string][] = [
      [['feeds', 'add', site.urlFor('/politica.xml'), '--secton', 'X'], 'unknown option "--secton" for `manchete feeds add`'],
      [['feeds', 'list', '--verbose'], 'unknown option "--verbose" for `manchete feeds list`'],
      [['feeds', 'frobnicate'], 'unknown subcommand "frobnicate" of feeds'],
      [['feeds', 'add'], "feeds add needs the feed's http(s) URL"],
      [['feeds', 'add', site.urlFor('/politica.xml'), '--interval', '5 minutos'], '--interval: interval "5 minutos" is not a duration'],
      [['feeds', 'import', 'x.opml', '--concurrency', '0'], '--concurrency is a whole number from 1 to 256'],
      [['feeds', 'remove', 'a', 'b'], 'unexpected argument "b"'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args, none);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toHaveLength(1);
      expect(r.err[0]).toContain(message);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});

describe('manchete feeds add, list, remove', () => {
  it('add shows the first items and adds a working feed; a broken one is refused and not written', async () => {
    const r = await run(['feeds', 'add', site.urlFor('/politica.xml'), '--section', 'Política', '--interval', '5m']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out[0]).toBe(`${site.urlFor('/politica.xml')} works: "Teste", 2 items. The first ones:`);
    expect(r.out[1]).toMatch(/^ {2}· Segunda de politica \[Política\] \(/);
    expect(r.out.at(-1)).toMatch(new RegExp(`^added ${site.urlFor('/politica.xml').replace(/[.?]/g, '\\$&')} \\(section Política, every 5m\\)`));

    const bad = await run(['feeds', 'add', site.urlFor('/pagina')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toHaveLength(1);
    expect(bad.err[0]).toMatch(/was not added: .*HTML page/);
    const missing = await run(['feeds', 'add', site.urlFor('/sumiu.xml')]);
    expect(missing.err[0]).toContain('404');
    const configured = await run(['feeds', 'add', site.urlFor('/config.xml')]);
    expect(configured.code).toBe(1);
    expect(configured.err[0]).toContain('already polled from configuration');

    const store = await openStore(env.DATABASE_URL!);
    const rows = await store.db.selectFrom('feeds').select(['url', 'managed', 'section', 'interval_s', 'added_by']).execute();
    await store.close();
    expect(rows).toEqual([{ url: site.urlFor('/politica.xml'), managed: 1, section: 'Política', interval_s: 300, added_by: 'cli (ana)' }]);
  });

  it('list names the origin, section, interval and health of each feed', async () => {
    const r = await run(['feeds', 'list']);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toContain(`${site.urlFor('/config.xml')}\n  from configuration; section: (from the items); every 2m (POLL_INTERVAL)\n  not polled yet`);
    expect(text).toMatch(new RegExp(`${site.urlFor('/politica.xml').replace(/[.?]/g, '\\$&')} \\(Teste\\)\\n  added by cli \\(ana\\) at \\S+; section: Política; every 5m`));
    expect(r.out.at(-1)).toBe('2 feeds: 1 from configuration, 1 added at run time');
    // Health once polled: the row's state is shown.
    const store = await openStore(env.DATABASE_URL!);
    await store.db.updateTable('feeds').set({ last_ok_at: '2026-12-01T10:00:00.000Z', failures: 2, last_error: 'feed answered HTTP 503', next_poll_at: '2026-12-01T10:08:00.000Z' }).execute();
    await store.close();
    const again = (await run(['feeds'])).out.join('\n');
    expect(again).toContain('last ok: 2026-12-01T10:00:00.000Z; failures: 2; next poll: 2026-12-01T10:08:00.000Z\n  last error: feed answered HTTP 503');
    const json = (await run(['feeds', 'list', '--json'])).out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.map((j) => [j.origin, j.section, j.interval, j.failures])).toEqual([
      ['configuration', null, null, 0],
      ['managed', 'Política', '5m', 2],
    ]);
  });

  it('remove: a managed feed goes; a configured one cannot, and says where it comes from', async () => {
    const conf = await run(['feeds', 'remove', site.urlFor('/config.xml')]);
    expect(conf.code).toBe(1);
    expect(conf.err).toEqual([`${site.urlFor('/config.xml')} is from configuration and cannot be removed here; take it out of FEED_URLS and restart`]);
    const unknown = await run(['feeds', 'remove', site.urlFor('/nunca.xml')]);
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toContain('is not a feed added at run time');
    const ok = await run(['feeds', 'remove', site.urlFor('/politica.xml')]);
    expect(ok.code).toBe(0);
    expect(ok.out[0]).toMatch(/^removed .*stops polling it at its next tick/);
    expect((await run(['feeds', 'list'])).out.at(-1)).toBe('1 feeds: 1 from configuration, 0 added at run time');
  });
});

describe('manchete feeds import and export', () => {
  it('import then export gives the same feeds back (sections and intervals included)', async () => {
    const file = join(dir, 'assinaturas.opml');
    writeFileSync(
      file,
      `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Leitor</title></head><body>
  <outline text="Notícias">
    <outline text="Política" xmlUrl="${site.urlFor('/politica.xml')}" category="Política" interval="10m"/>
    <outline text="Mais">
      <outline text="Economia" xmlUrl="${site.urlFor('/economia.xml')}"/>
    </outline>
  </outline>
  <outline text="Cultura" xmlUrl="${site.urlFor('/cultura.xml')}" category="Cultura"/>
</body></opml>`,
    );
    const r = await run(['feeds', 'import', file]);
    expect(r.code, [...r.out, ...r.err].join('\n')).toBe(0);
    // Not a terminal: one plain line per feed, then the summary.
    expect(r.out.filter((l) => /^\[\d\/3\] ok /.test(l))).toHaveLength(3);
    expect(r.out).toContainEqual(expect.stringMatching(new RegExp(`^${file.replace(/[.]/g, '\\.')}: 3 feeds in [\\d.]+ s: 3 added, 0 already polled, 0 failed$`)));

    const exported = await run(['feeds', 'export']);
    expect(exported.code).toBe(0);
    const text = exported.out.join('\n');
    expect(text).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<opml version="2.0">/);
    const feeds = readOpml(text);
    const managed = feeds.filter((f) => f.url !== site.urlFor('/config.xml'));
    expect(managed).toEqual([
      { url: site.urlFor('/politica.xml'), title: 'Teste', section: 'Política', interval: '10m' },
      { url: site.urlFor('/economia.xml'), title: 'Teste', section: 'Mais', interval: null },
      { url: site.urlFor('/cultura.xml'), title: 'Teste', section: 'Cultura', interval: null },
    ]);

    // The export imported into a fresh database gives the same managed feeds.
    const other = { DATABASE_URL: `sqlite:${join(dir, 'other.sqlite')}` };
    const back = join(dir, 'export.opml');
    writeFileSync(back, text);
    expect((await run(['feeds', 'import', back], other)).code).toBe(0);
    const listed = (await run(['feeds', 'list', '--json'], other)).out.map((l) => JSON.parse(l) as { url: string; origin: string; section: string | null; interval: string | null });
    expect(listed.filter((f) => f.origin === 'managed').map((f) => [f.url, f.section, f.interval])).toEqual(managed.map((f) => [f.url, f.section, f.interval]));

    // Importing again adds nothing and checks nothing.
    const before = site.requests.length;
    const again = await run(['feeds', 'import', file]);
    expect(again.out.at(-1)).toMatch(/3 feeds in [\d.]+ s: 0 added, 3 already polled, 0 failed$/);
    expect(site.requests.length).toBe(before);
  });

  it('on a terminal, a progress bar instead of a line per feed, then the same summary', async () => {
    const { PassThrough } = await import('node:stream');
    const file = join(dir, 'terminal.opml');
    writeFileSync(file, `<opml version="2.0"><body><outline text="a" xmlUrl="${site.urlFor('/config.xml')}"/><outline text="b" xmlUrl="${site.urlFor('/sumiu.xml')}"/></body></opml>`);
    const drawn = new PassThrough();
    let bar = '';
    drawn.on('data', (d: Buffer) => (bar += d.toString()));
    // cli-progress draws only on a TTY-like stream: give the pass-through the methods it calls.
    Object.assign(drawn, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const out: string[] = [];
    const code = await runCli(['feeds', 'import', file], { out: (s) => out.push(s), err: () => undefined, env, tty: true, progress: drawn });
    expect(code).toBe(1);
    expect(bar).toContain('checking feeds [');
    expect(bar).toContain('2/2 · 1 failed');
    expect(out.some((l) => /^\[\d\/2\]/.test(l))).toBe(false);
    expect(out[0]).toMatch(/2 feeds in [\d.]+ s: 0 added, 1 already polled, 1 failed:$/);
    expect(out[1]).toContain('404');
  });

  it('a file that is not OPML, or missing, is one line and exit 1', async () => {
    const notOpml = join(dir, 'feed.xml');
    writeFileSync(notOpml, '<rss version="2.0"><channel><title>x</title></channel></rss>');
    const r = await run(['feeds', 'import', notOpml]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`${notOpml}: the file is not OPML (there is no <opml> document with a <body>)`]);
    const gone = await run(['feeds', 'import', join(dir, 'nao-existe.opml')]);
    expect(gone.code).toBe(1);
    expect(gone.err[0]).toMatch(/nao-existe\.opml cannot be read: ENOENT/);
  });
});
