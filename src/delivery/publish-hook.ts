import type { Article } from '../articles/article.js';
import { articlesFromFeed } from '../sources/poller.js';
import { isWordPressPosts } from '../sources/wordpress.js';
import { SourceError } from '../sources/types.js';
import { json, verifyHmac, type Hook, type HookRequest, type HookResponse } from '../lib/hook.js';
import type { Logger } from '../log.js';

/**
 * The CMS publish hook, `POST /hooks/publish`: a newsroom's CMS tells Manchete of a story the moment it
 * is published, instead of waiting for the next poll.
 *
 * - Authentication first: `X-Manchete-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with
 *   PUBLISH_WEBHOOK_SECRET, compared in constant time. No header → 401 before the body is read; a wrong
 *   one → 401 and the body is never parsed. Bodies over 1 MB → 413 (the adapter stops reading there).
 * - The body is one story: `{"url": "…"}` (the page is read with the guarded fetcher: the URL is hostile),
 *   a JSON Feed item, or a WordPress REST post object (what WordPress webhook plugins send). Items are
 *   read by the feed parser and normalised like polled items; a thin one has its page read like a thin
 *   feed item. Anything else → 400.
 * - The story is recorded, routed and queued at once through the ingest pipeline, as an item of
 *   PUBLISH_FEED. 202 `{"id"}` for a new story; the same story again (same dedup key or canonical URL)
 *   → 200 with the first id, and nothing is posted (a changed title or lead edits what was sent).
 */

export const PUBLISH_PATH = '/hooks/publish';
export const PUBLISH_MAX_BYTES = 1024 * 1024;
const SHA256 = new Set(['sha256']);

/** Where the hook's stories go and how they are read; wired in main.ts. */
export interface PublishHookOptions {
  secret: string;
  /** The feed the stories count as (PUBLISH_FEED), null for none. */
  feedUrl: string | null;
  /** Section for stories that name none (PUBLISH_SECTION, else the routes file's for the feed). */
  section: string | null;
  summaryMaxChars: number;
  itemHtmlMaxBytes?: number;
  boilerplate?: readonly RegExp[];
  /** The guarded page reader for `{"url"}` bodies (hostile URL): null when the page has no article title. */
  readPage: (url: string) => Promise<Article | null>;
  /** Records, routes and queues (Pipeline.intake). */
  intake: (article: Article, feedUrl: string | null) => Promise<{ id: string; known: boolean; queued: number; posted: boolean }>;
  logger: Logger;
}

/** What a body is, once read: a URL to fetch, an article, or the reason it is neither. */
export type PublishBody = { kind: 'url'; url: string } | { kind: 'article'; article: Article } | { kind: 'invalid'; reason: string };

const PLACEHOLDER_BASE = 'https://publish-hook.invalid/';

/**
 * Reads one parsed JSON body: a WordPress post (`title.rendered`), a JSON Feed item (`id` with a title or
 * content), or `{"url"}` alone. Pure: the feed parser and normaliser do the reading, so a webhook story
 * is the same Article its feed item would be (same dedup key: polling it later finds it known).
 */
export function readPublishBody(body: unknown, o: Pick<PublishHookOptions, 'feedUrl' | 'section' | 'summaryMaxChars' | 'itemHtmlMaxBytes' | 'boilerplate'>): PublishBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { kind: 'invalid', reason: 'the body must be one JSON object: {"url": "…"}, a JSON Feed item or a WordPress post' };
  const obj = body as Record<string, unknown>;
  const textField = (k: string) => typeof obj[k] === 'string' && (obj[k] as string).trim() !== '';
  const isWp = isWordPressPosts(obj);
  const isItem = !isWp && (textField('title') || textField('content_html') || textField('content_text') || textField('summary'));
  if (!isWp && !isItem) {
    if (typeof obj.url === 'string' && /^https?:\/\//i.test(obj.url.trim())) return { kind: 'url', url: obj.url.trim() };
    return { kind: 'invalid', reason: 'the body is neither {"url": "https://…"}, a JSON Feed item (title or content_html) nor a WordPress post (title.rendered)' };
  }
  const link = isWp ? obj.link : obj.url;
  const base = typeof link === 'string' && /^https?:\/\//i.test(link) ? link : PLACEHOLDER_BASE;
  // A JSON Feed item without an id takes its URL as one (the spec requires an id; CMS plugins forget it).
  const item = isItem && obj.id === undefined && typeof obj.url === 'string' ? { ...obj, id: obj.url } : obj;
  const doc = isWp ? item : { version: 'https://jsonfeed.org/version/1.1', title: 'publish hook', items: [item] };
  try {
    const read = articlesFromFeed(JSON.stringify(doc), base, o.feedUrl ?? base, {
      summaryMaxChars: o.summaryMaxChars,
      boilerplate: o.boilerplate ?? [],
      section: o.section,
      ...(o.itemHtmlMaxBytes ? { itemHtmlMaxBytes: o.itemHtmlMaxBytes } : {}),
    });
    const article = read.articles[0];
    if (!article) return { kind: 'invalid', reason: read.skipped[0] ?? 'the item has no story in it' };
    if (!article.url) return { kind: 'invalid', reason: 'the item has no http(s) link (url, or link for a WordPress post)' };
    return { kind: 'article', article };
  } catch (err) {
    return { kind: 'invalid', reason: err instanceof SourceError ? err.message.replace(PLACEHOLDER_BASE, 'the body') : 'the item could not be read' };
  }
}

export function createPublishHook(o: PublishHookOptions): Hook {
  const log = o.logger;
  return {
    matches: (_method, path) => path === PUBLISH_PATH,
    maxBodyBytes: PUBLISH_MAX_BYTES,
    precheck: (req) => {
      if (req.method !== 'POST') return { ...json(405, { error: 'use POST' }), headers: { 'content-type': 'application/json', allow: 'POST' } };
      if (!/^sha256=[0-9a-fA-F]{64}$/.test(req.headers['x-manchete-signature']?.trim() ?? '')) {
        log.warn({ event: 'publish.unsigned' }, 'publish hook: a request without a valid X-Manchete-Signature header was refused');
        return json(401, { error: 'missing or malformed X-Manchete-Signature (sha256=<hex HMAC of the body>)' });
      }
      return null;
    },
    handle: async (req: HookRequest): Promise<HookResponse> => {
      if (!verifyHmac(req.headers['x-manchete-signature'], req.body, o.secret, SHA256)) {
        log.warn({ event: 'publish.bad_signature', bytes: req.body.length }, 'publish hook: a request with a wrong signature was refused (check PUBLISH_WEBHOOK_SECRET on the CMS side)');
        return json(401, { error: 'signature does not match the body' });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(req.body.toString('utf8'));
      } catch {
        return json(400, { error: 'the body is not JSON' });
      }
      const shape = readPublishBody(parsed, o);
      if (shape.kind === 'invalid') return json(400, { error: shape.reason });
      let article: Article;
      if (shape.kind === 'url') {
        try {
          const page = await o.readPage(shape.url);
          if (!page) return json(422, { error: `${shape.url} has no article title (og:title or <title>); nothing to post` });
          article = page;
        } catch (err) {
          const reason = err instanceof SourceError ? err.message : 'the page could not be read';
          log.warn({ event: 'publish.page_failed', url: shape.url, reason }, `publish hook: ${reason}`);
          return json(422, { error: reason });
        }
      } else article = shape.article;
      const got = await o.intake(o.section && !article.section ? { ...article, section: o.section } : article, o.feedUrl);
      log.info(
        { event: got.known ? 'publish.duplicate' : 'publish.received', article: got.id, url: article.url, queued: got.queued },
        got.known ? `publish hook: ${article.url} is already known; nothing posted` : `publish hook: ${article.url} queued for ${got.queued} destination(s)`,
      );
      if (got.known) return json(200, { id: got.id, duplicate: true, edits: got.queued });
      return json(202, { id: got.id, deliveries: got.queued, ...(got.posted ? {} : { posted: false, reason: 'recorded without posting (older than MAX_ARTICLE_AGE)' }) });
    },
  };
}
