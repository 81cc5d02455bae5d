import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';
import type { Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { bodyLimit } from 'hono/body-limit';
import type { HttpApp } from '../http/server.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { Article } from '../articles/article.js';
import type { Renderer } from '../render/renderer.js';
import type { ArticleRepo } from '../store/articles.js';
import type { Routing } from '../delivery/routing.js';
import { queuePush } from '../delivery/push.js';
import { parseInterval, type FeedAdmin, type FeedEntry, type ImportSummary } from '../delivery/managed-feeds.js';
import { recentAudit, setPaused, writeAudit } from '../commands/repo.js';
import { AttemptLimiter, SessionStore, checkPassword, sameToken, type DeskUser, type Session } from './auth.js';
import { bubblesFor } from './bubbles.js';
import { cancelOne, deskState, feedItemsSeen, pushProgress, queueRows, requeueOne, type DeskSources } from './data.js';
import { pickLang, words, type DeskLang } from './i18n.js';

/**
 * The web desk under `/desk`, mounted on the admin listener (see main.ts). Server-rendered eta pages with
 * their own Eta instance (HTML escaping on every `<%= %>`), two plain JS/CSS files served from here, live
 * updates over server-sent events. Every POST needs the session's CSRF token (403 without it); every
 * change is audited as `web:<user>`.
 */

export interface DeskDeps extends DeskSources {
  logger: Logger;
  users: DeskUser[];
  sessionTtlMs: number;
  /** Secure cookies (PUBLIC_URL https), or by X-Forwarded-Proto when `trustProxy`. */
  secureCookies: boolean;
  trustProxy: boolean;
  templatesDir: string;
  assetsDir: string;
  renderer: Pick<Renderer, 'render'>;
  articles: Pick<ArticleRepo, 'put' | 'latest' | 'byUrl'>;
  routing: Pick<Routing, 'route' | 'destinationsFor'>;
  /** The configured destination ids, in order: the ones a push may name. */
  destinationIds: () => string[];
  /** Reads a page into an article (hostile input: the guarded fetcher). */
  readPage: (url: string) => Promise<Article | null>;
  wake: () => void;
  /** SSE refresh period (tests shorten it). */
  liveMs?: number;
  /** Feeds managed at run time (the same functions as `manchete feeds …`); without it the Feeds page is read-only. */
  feedAdmin?: FeedAdmin;
  /** OPML import limits (FEEDS_IMPORT_CONCURRENCY, FEEDS_IMPORT_PER_HOST). */
  feedsImport?: { concurrency: number; perHost: number };
}

/** The largest OPML file the desk takes. */
export const OPML_MAX_BYTES = 1024 * 1024;

interface ImportJob {
  user: string;
  file: string;
  done: number;
  total: number;
  summary: ImportSummary | null;
  error: string | null;
}

const COOKIE = 'manchete_desk';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

type Vars = { session: Session; lang: DeskLang };
type Form = Record<string, string | File | (string | File)[]>;

/** The form's fields, every value kept (parsed once: hono caches the first parse). */
const formOf = (c: Context): Promise<Form> => c.req.parseBody({ all: true }) as Promise<Form>;
/** A field's first text value, or ''. */
function one(v: Form[string] | undefined): string {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x : '';
}

export function mountDesk(app: HttpApp, d: DeskDeps): void {
  const eta = new Eta({ views: d.templatesDir, autoEscape: true, autoTrim: false, cache: true });
  const sessions = new SessionStore(d.db, d.sessionTtlMs, d.clock);
  const byIp = new AttemptLimiter(20, 10 * 60_000);
  const byUser = new AttemptLimiter(8, 10 * 60_000);
  const liveMs = d.liveMs ?? 1_000;
  const assets: Record<string, { type: string; body: string }> = {
    'desk.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(d.assetsDir, 'desk.js'), 'utf8') },
    'desk.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(d.assetsDir, 'desk.css'), 'utf8') },
  };

  const secure = (c: Context) => d.secureCookies || (d.trustProxy && (c.req.header('x-forwarded-proto') ?? '').split(',')[0]!.trim() === 'https');
  const ipOf = (c: Context) => {
    if (d.trustProxy) {
      const fwd = c.req.header('x-forwarded-for');
      if (fwd) return fwd.split(',')[0]!.trim().slice(0, 64);
    }
    const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
    return env?.incoming?.socket?.remoteAddress ?? 'local';
  };
  const langOf = (c: Context): DeskLang => pickLang(getCookie(c, 'desk_lang'), c.req.header('accept-language'));
  const page = (c: Context, name: string, data: Record<string, unknown>, status = 200) => {
    const lang = langOf(c);
    const body = eta.render(name, { ...data, t: words(lang), lang, path: new URL(c.req.url).pathname });
    return c.html(body, status as 200);
  };
  const audit = (user: string, action: string, detail: string | null, outcome: string) =>
    writeAudit(d.db, { actor: `web:${user}`, action, detail, outcome }, (d.clock ?? (() => new Date()))()).catch((err: unknown) =>
      d.logger.warn({ event: 'desk.audit_failed', err: (err as Error).message }, 'could not write the audit line'),
    );

  app.use('/desk/*', async (c, next) => {
    // A POST from another site's page (the sign-in form included) is refused by its Origin.
    const origin = c.req.header('origin');
    if (c.req.method === 'POST' && origin && origin !== 'null') {
      let host = '';
      try {
        host = new URL(origin).host;
      } catch {
        host = '';
      }
      const expected = (d.trustProxy ? c.req.header('x-forwarded-host') : undefined) ?? c.req.header('host') ?? '';
      if (host !== expected) return c.text('cross-site request refused', 403);
    }
    await next();
    c.header('content-security-policy', CSP);
    c.header('x-frame-options', 'DENY');
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-store');
  });
  app.get('/desk', (c) => c.redirect('/desk/'));
  app.get('/desk/assets/:name', (c) => {
    const a = assets[c.req.param('name')];
    if (!a) return c.notFound();
    return c.body(a.body, 200, { 'content-type': a.type });
  });
  app.get('/desk/lang/:lang', (c) => {
    const lang = c.req.param('lang') === 'en' ? 'en' : 'pt-BR';
    setCookie(c, 'desk_lang', lang, { path: '/desk', sameSite: 'Strict', httpOnly: true, secure: secure(c), maxAge: 365 * 86400 });
    const back = c.req.query('back') ?? '/desk/';
    return c.redirect(back.startsWith('/desk/') && !back.startsWith('//') ? back : '/desk/');
  });
  app.get('/desk/login', (c) => page(c, 'login', { error: null }));
  app.post('/desk/login', async (c) => {
    const form = await formOf(c);
    const name = one(form.user).slice(0, 64);
    const password = one(form.password);
    const t = words(langOf(c));
    const ip = ipOf(c);
    if (!byIp.take(ip) || !byUser.take(name)) {
      d.logger.warn({ event: 'desk.login_limited', ip, user: name }, 'desk sign-in refused: too many attempts');
      return page(c, 'login', { error: t.tooMany }, 429);
    }
    const user = await checkPassword(d.users, name, password);
    if (!user) {
      d.logger.warn({ event: 'desk.login_failed', ip, user: name }, 'desk sign-in refused: wrong user or password');
      await audit(name || '?', 'login', null, 'refused');
      return page(c, 'login', { error: t.wrongPassword }, 401);
    }
    byUser.reset(name);
    const s = await sessions.create(user.name);
    setCookie(c, COOKIE, s.id, { path: '/desk', httpOnly: true, sameSite: 'Strict', secure: secure(c), maxAge: Math.floor(d.sessionTtlMs / 1000) });
    await audit(user.name, 'login', null, 'ok');
    return c.redirect('/desk/');
  });

  // Everything below needs a session; POSTs need its CSRF token too.
  const guard = async (c: Context<{ Variables: Vars }>, next: () => Promise<void>) => {
    const s = await sessions.get(getCookie(c, COOKIE));
    if (!s) {
      if (c.req.method === 'GET' && !c.req.path.startsWith('/desk/events')) return c.redirect('/desk/login');
      return c.json({ error: 'sign in first' }, 401);
    }
    if (c.req.method === 'POST') {
      const form = await formOf(c);
      const token = one(form._csrf) || (c.req.header('x-csrf-token') ?? '');
      if (!sameToken(token, s.csrf)) {
        d.logger.warn({ event: 'desk.csrf_refused', user: s.user, path: c.req.path }, 'desk form without a valid CSRF token refused');
        return c.text('CSRF token missing or wrong', 403);
      }
    }
    c.set('session', s);
    c.set('lang', langOf(c));
    await next();
  };
  const a = app as unknown as import('hono').Hono<{ Variables: Vars }>;
  // The upload is bounded before anything reads it (the guard parses the form for its token).
  a.use('/desk/feeds/import', bodyLimit({ maxSize: OPML_MAX_BYTES + 64 * 1024, onError: (c) => c.text(words(langOf(c)).tooBig, 413) }));
  for (const p of ['/desk/', '/desk/preview', '/desk/push', '/desk/queue', '/desk/queue/*', '/desk/feeds', '/desk/feeds/*', '/desk/audit', '/desk/events', '/desk/logout', '/desk/pause']) a.use(p, guard);

  a.post('/desk/logout', async (c) => {
    await sessions.end(c.var.session.id);
    deleteCookie(c, COOKIE, { path: '/desk' });
    return c.redirect('/desk/login');
  });

  a.get('/desk/', async (c) => page(c, 'home', { s: c.var.session, state: await deskState(d) }));
  a.get('/desk/events', (c) =>
    streamSSE(c, async (stream) => {
      const t = words(c.var.lang);
      const wanted = imports.get(c.req.query('import') ?? '');
      const job = wanted && wanted.user === c.var.session.user ? wanted : undefined;
      const ids = (c.req.query('push') ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0).slice(0, 500);
      let last = '';
      while (!stream.aborted) {
        const parts: Record<string, string> = {};
        try {
          if (job) parts.importing = eta.render('importing', { t, job });
          else if (ids.length) {
            const p = await pushProgress(d.db, ids);
            parts.progress = eta.render('progress', { t, p });
          } else parts.live = eta.render('live', { t, state: await deskState(d), s: c.var.session });
          const data = JSON.stringify(parts);
          if (data !== last) await stream.writeSSE({ event: 'parts', data });
          last = data;
          if (job?.summary || job?.error) break;
        } catch (err) {
          // The store is down or the client went away: try again at the next tick (the page keeps its last view).
          d.logger.debug({ event: 'desk.live_failed', err: (err as Error).message }, 'desk live update failed');
        }
        await stream.sleep(liveMs);
      }
    }),
  );

  const previewFor = async (article: Article) => {
    const dests = await d.routing.destinationsFor(article, d.destinationIds());
    return dests.map((dest) => ({ id: dest.id, platform: dest.platform, bubbles: bubblesFor(dest.platform, d.renderer.render(article, dest.platform, dest.options)) }));
  };
  a.get('/desk/preview', async (c) => page(c, 'preview', { s: c.var.session, latest: await d.articles.latest(10), article: null, previews: [], error: null }));
  a.post('/desk/preview', async (c) => {
    const form = await formOf(c);
    const url = one(form.url).trim();
    const latest = await d.articles.latest(10);
    let article: Article | null = null;
    let error: string | null = null;
    try {
      article = (await d.articles.byUrl(url)) ?? (/^https?:\/\//.test(url) ? await d.readPage(url) : null);
      if (!article) error = url ? `${url}: no article` : 'URL?';
    } catch (err) {
      error = `${url}: ${(err as Error).message}`;
    }
    const previews = article ? await previewFor(article) : [];
    return page(c, 'preview', { s: c.var.session, latest, article, previews, error, url });
  });
  a.post('/desk/push', async (c) => {
    const form = await formOf(c);
    const url = one(form.url);
    const chosen = ([] as unknown[]).concat(form.dest ?? []).filter((x): x is string => typeof x === 'string');
    const allowed = new Set(d.destinationIds());
    const dests = chosen.filter((x) => allowed.has(x));
    const article = (await d.articles.byUrl(url)) ?? (/^https?:\/\//.test(url) ? await d.readPage(url) : null);
    if (!article || dests.length === 0) return c.text('nothing to push: choose an article and at least one destination', 400);
    const ids = await queuePush({ db: d.db, articles: d.articles as ArticleRepo, routing: d.routing }, article, dests, `web:${c.var.session.user}`);
    d.wake();
    return page(c, 'pushed', { s: c.var.session, article, ids: ids.join(','), p: { total: ids.length, sent: 0, failed: 0 } });
  });

  a.get('/desk/queue', async (c) => page(c, 'queue', { s: c.var.session, rows: await queueRows(d.db), state: await deskState(d) }));
  a.post('/desk/queue/:action', async (c) => {
    const form = await formOf(c);
    const id = Number(one(form.id));
    const now = (d.clock ?? (() => new Date()))();
    const user = c.var.session.user;
    const action = c.req.param('action');
    if (action === 'requeue') {
      const ok = await requeueOne(d.db, id, now);
      await audit(user, 'queue.requeue', String(id), ok ? 'ok' : 'invalid');
      if (ok) d.wake();
    } else if (action === 'cancel') {
      const ok = await cancelOne(d.db, id, `web:${user}`, now);
      await audit(user, 'queue.cancel', String(id), ok ? 'ok' : 'invalid');
    } else return c.notFound();
    return c.redirect('/desk/queue');
  });
  a.post('/desk/pause', async (c) => {
    const form = await formOf(c);
    const paused = one(form.paused) === 'true';
    await setPaused(d.db, paused, `web:${c.var.session.user}`, (d.clock ?? (() => new Date()))());
    await audit(c.var.session.user, paused ? 'pause' : 'resume', null, 'ok');
    const back = one(form.back).startsWith('/desk/') ? one(form.back) : '/desk/';
    return c.redirect(back);
  });
  const imports = new Map<string, ImportJob>();
  const feedsPage = async (c: Context<{ Variables: Vars }>, extra: Record<string, unknown> = {}, status = 200) => {
    const seen = await feedItemsSeen(d.db);
    const entries: FeedEntry[] | null = d.feedAdmin ? await d.feedAdmin.list() : null;
    const feeds = entries
      ? entries.map((f) => ({ url: f.url, title: f.title, origin: f.origin, section: f.section, failures: f.state?.failures ?? 0, last_error: f.state?.last_error ?? null, last_polled_at: f.state?.last_polled_at ?? null, next_poll_at: f.state?.next_poll_at ?? null, seen: seen.get(f.url) ?? 0 }))
      : (await d.feeds.list()).map((f) => ({ ...f, origin: 'configuration', seen: seen.get(f.url) ?? 0 }));
    return page(c, 'feeds', { s: c.var.session, feeds, managed: !!d.feedAdmin, added: null, addError: null, removed: null, ...extra }, status);
  };
  a.get('/desk/feeds', async (c) => feedsPage(c));
  a.post('/desk/feeds/add', async (c) => {
    if (!d.feedAdmin) return c.notFound();
    const t = words(c.var.lang);
    const form = await formOf(c);
    const url = one(form.url).trim().slice(0, 2048);
    const section = one(form.section).trim().slice(0, 100) || null;
    const intervalText = one(form.interval).trim();
    const interval = intervalText ? parseInterval(intervalText) : null;
    const user = c.var.session.user;
    if (!/^https?:\/\//i.test(url)) return feedsPage(c, { addError: `${url || 'URL?'}: ${t.needHttp}` }, 400);
    if (typeof interval === 'string') return feedsPage(c, { addError: `${intervalText}: ${interval}` }, 400);
    const r = await d.feedAdmin.add(url, { section, intervalMs: interval, actor: `web (${user})` });
    if (r.status === 'configured') {
      await audit(user, 'feeds.add', url, 'configured');
      return feedsPage(c, { addError: `${url}: ${t.fromConfigAlready}` }, 400);
    }
    if (r.status === 'failed') {
      await audit(user, 'feeds.add', url, 'failed');
      return feedsPage(c, { addError: `${url}: ${r.check.reason}` }, 400);
    }
    await audit(user, 'feeds.add', url, r.status);
    return feedsPage(c, { added: { url, status: r.status, title: r.check.title, items: r.check.items, sample: r.check.sample.map((x) => x.title) } });
  });
  a.post('/desk/feeds/remove', async (c) => {
    if (!d.feedAdmin) return c.notFound();
    const form = await formOf(c);
    const url = one(form.url).slice(0, 2048);
    const r = await d.feedAdmin.remove(url);
    await audit(c.var.session.user, 'feeds.remove', url, r);
    return feedsPage(c, { removed: { url, r } }, r === 'removed' ? 200 : 400);
  });
  a.post('/desk/feeds/import', async (c) => {
    if (!d.feedAdmin) return c.notFound();
    const t = words(c.var.lang);
    const form = await formOf(c);
    const file = Array.isArray(form.opml) ? form.opml[0] : form.opml;
    if (!file || typeof file === 'string') return feedsPage(c, { addError: t.noFile }, 400);
    if (file.size > OPML_MAX_BYTES) return feedsPage(c, { addError: t.tooBig }, 413);
    const text = await file.text();
    const user = c.var.session.user;
    const id = randomUUID();
    const job: ImportJob = { user, file: file.name.slice(0, 200), done: 0, total: 0, summary: null, error: null };
    // Only the last few imports are kept for their pages.
    imports.set(id, job);
    while (imports.size > 20) imports.delete(imports.keys().next().value!);
    const limits = d.feedsImport ?? { concurrency: 8, perHost: 2 };
    void d.feedAdmin
      .importOpml(text, {
        ...limits,
        actor: `opml ${job.file} (web ${user})`,
        onStart: (total) => {
          job.total = total;
        },
        onProgress: (p) => {
          job.done = p.done;
        },
      })
      .then(
        async (summary) => {
          job.summary = summary;
          await audit(user, 'feeds.import', `${job.file}: ${summary.added.length} added, ${summary.already.length} already, ${summary.failed.length} failed`, summary.failed.length ? 'partial' : 'ok');
        },
        async (err: unknown) => {
          job.error = (err as Error).message;
          await audit(user, 'feeds.import', `${job.file}: ${job.error}`, 'failed');
        },
      );
    return c.redirect(`/desk/feeds/import/${id}`);
  });
  a.get('/desk/feeds/import/:id', async (c) => {
    const id = c.req.param('id');
    const job = imports.get(id);
    if (!job || job.user !== c.var.session.user) return c.notFound();
    return page(c, 'imported', { s: c.var.session, job, id });
  });
  a.get('/desk/feeds/export', async (c) => {
    if (!d.feedAdmin) return c.notFound();
    const { opml } = await d.feedAdmin.exportOpml();
    await audit(c.var.session.user, 'feeds.export', null, 'ok');
    return c.body(opml, 200, { 'content-type': 'text/x-opml; charset=utf-8', 'content-disposition': 'attachment; filename="manchete-feeds.opml"' });
  });
  a.get('/desk/audit', async (c) => page(c, 'audit', { s: c.var.session, rows: await recentAudit(d.db, 200) }));
}
