import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bubblesFor, telegramHtmlToBubble, whatsappToBubble } from '../../src/desk/bubbles.js';
import { AttemptLimiter, SessionStore, checkPassword, deskUsers } from '../../src/desk/auth.js';
import { pickLang } from '../../src/desk/i18n.js';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { runCli } from '../../src/cli.js';
import { rendererFor } from '../../src/render/renderer.js';
import { escapeHtml } from '../../src/render/escape.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('bubbles', () => {
  it('keep the Telegram subset as tags and show anything else as text', () => {
    expect(telegramHtmlToBubble('<b>Título</b> &amp; <i>lead</i>\n<a href="https://x.test/a?b=1&amp;c=2">link</a>')).toBe(
      '<b>Título</b> &amp; <i>lead</i><br><a href="https://x.test/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">link</a>',
    );
    expect(telegramHtmlToBubble('<script>alert(1)</script><img src=x onerror=alert(1)>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(telegramHtmlToBubble('<a href="javascript:alert(1)">x</a><b>unclosed')).toBe('<a>x</a><b>unclosed</b>');
  });

  it('draw WhatsApp markers over escaped text', () => {
    expect(whatsappToBubble('*Título <script>* _itálico_ ~riscado~ 2 * 3 * 4')).toBe('<b>Título &lt;script&gt;</b> <i>itálico</i> <s>riscado</s> 2 * 3 * 4');
    expect(whatsappToBubble('a'.repeat(50_000) + '*')).toHaveLength(50_001);
  });

  it('a feed title with <script> rendered by the real renderer shows as text in both bubbles', () => {
    const renderer = rendererFor(loadConfig({ FEED_URLS: 'https://site.test/feed' }));
    const article = { id: 'x', url: 'https://site.test/a', title: '<script>alert(1)</script> Manchete', lead: 'Lead <b>forte</b>.', section: 'Mundo', tags: [], image: null, author: null, publishedAt: new Date(), updatedAt: null, feedUrl: null, body: '' } as never;
    const tg = bubblesFor('telegram', renderer.render(article, 'telegram', {}));
    const wa = bubblesFor('whatsapp', renderer.render(article, 'whatsapp', {}));
    for (const b of [...tg, ...wa]) {
      expect(b.html).not.toMatch(/<script/i);
      expect(b.html).toContain('&lt;script&gt;');
    }
    expect(escapeHtml('<')).toBe('&lt;');
  });
});

describe('sign-in pieces', () => {
  it('ADMIN_USERS takes name:bcrypt-hash and refuses anything else; ADMIN_PASSWORD makes an admin user', async () => {
    const hash = bcrypt.hashSync('uma senha boa', 10);
    expect(loadConfig({ FEED_URLS: 'x', ADMIN_USERS: `ana:${hash}` }).desk.users).toEqual([{ name: 'ana', hash }]);
    expect(() => loadConfig({ FEED_URLS: 'x', ADMIN_USERS: 'ana:plaintext' })).toThrow('manchete desk hash-password');
    expect(deskUsers({ users: [], password: null })).toEqual([]);
    const users = deskUsers({ users: [], password: 'segredo123' });
    expect(await checkPassword(users, 'admin', 'segredo123')).toMatchObject({ name: 'admin' });
    expect(await checkPassword(users, 'admin', 'errada')).toBeNull();
    expect(await checkPassword(users, 'outro', 'segredo123')).toBeNull();
    expect(loadConfig({ FEED_URLS: 'x', PUBLIC_URL: 'https://desk.example.com' }).desk.secureCookies).toBe(true);
  });

  it('the attempt limiter refuses past its budget per key and forgets after the window, bounded in keys', () => {
    let now = 0;
    const l = new AttemptLimiter(2, 1_000, 3, () => now);
    expect([l.take('ip'), l.take('ip'), l.take('ip')]).toEqual([true, true, false]);
    expect(l.take('other')).toBe(true);
    now = 1_001;
    expect(l.take('ip')).toBe(true);
    for (let i = 0; i < 100; i++) l.take(`k${i}`);
    expect((l as unknown as { hits: Map<string, unknown> }).hits.size).toBeLessThanOrEqual(3);
  });

  it('sessions live in the database and expire', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manchete-desk-'));
    const store: Store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    cleanup.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    let now = new Date('2026-12-01T10:00:00Z');
    const sessions = new SessionStore(store.db, 60_000, () => now);
    const s = await sessions.create('ana');
    expect(s.csrf).not.toBe(s.id);
    expect(await sessions.get(s.id)).toMatchObject({ user: 'ana', csrf: s.csrf });
    now = new Date(now.getTime() + 61_000);
    expect(await sessions.get(s.id)).toBeNull();
    expect(await store.db.selectFrom('desk_sessions').selectAll().execute()).toEqual([]);
  });

  it('`manchete desk hash-password` prints a hash ADMIN_USERS accepts', async () => {
    const out: string[] = [];
    const code = await runCli(['desk', 'hash-password', '--user', 'ana', '--rounds', '10'], { out: (s) => out.push(s), err: (s) => out.push(s), env: {}, stdin: async () => 'senha-muito-boa\n' });
    expect(code).toBe(0);
    const [name, hash] = [out[0]!.slice(0, 3), out[0]!.slice(4)];
    expect(name).toBe('ana');
    expect(bcrypt.compareSync('senha-muito-boa', hash)).toBe(true);
    expect(loadConfig({ FEED_URLS: 'x', ADMIN_USERS: out[0]! }).desk.users[0]!.name).toBe('ana');
  });

  it('picks Portuguese by default, English by Accept-Language, the cookie first', () => {
    expect(pickLang(undefined, undefined)).toBe('pt-BR');
    expect(pickLang(undefined, 'en-US,en;q=0.9')).toBe('en');
    expect(pickLang('pt-BR', 'en-US')).toBe('pt-BR');
  });
});
