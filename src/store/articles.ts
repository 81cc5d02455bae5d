import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Article } from '../articles/article.js';
import { isThin } from '../articles/normalize.js';
import { storableText, type Db } from './db.js';
import type { ArticleTable } from './schema.js';

export type ArticleRow = Selectable<ArticleTable>;

/** What recording a feed's articles changed. */
export interface RecordResult {
  /** Never seen before and to be posted. */
  fresh: Article[];
  /** Seen before, and the title or lead changed: `version` is the new version. */
  updated: { article: Article; version: number; firstSeenAt: Date }[];
  /** Recorded and never posted: beyond the backfill on a feed's first poll, older than the age limit, or over the cap. */
  backlog: number;
  /** Of `backlog`: new items held back because the poll already had `maxNew` to post. */
  heldBack: number;
  /** Of `backlog`: new items published longer than `maxAgeMs` ago. */
  stale: number;
  unchanged: number;
}

/** How a poll's new items become posts (see `ArticleRepo.record`). */
export interface RecordOptions {
  /** The feed's first successful poll: only the newest `backfill` items are posted. */
  firstPoll: boolean;
  backfill: number;
  /** At most this many new items posted by one later poll (MAX_NEW_PER_POLL); the rest are backlog. */
  maxNew?: number;
  /** Items published longer ago than this are recorded without posting on later polls (MAX_ARTICLE_AGE). */
  maxAgeMs?: number;
}

/**
 * The article a feed update makes when the stored lead came from the page: while the feed's lead is still
 * thin, the page's lead, body and image stay (the feed's new title and dates win); a real lead in the feed
 * replaces them. Returns `a` itself when nothing is kept.
 */
export function keepEnriched(a: Article, old: ArticleRow): Article {
  if (old.lead_source !== 'page' || !isThin(a)) return a;
  return {
    ...a,
    lead: old.lead,
    body: a.body.length >= old.body.length ? a.body : old.body,
    imageUrl: a.imageUrl ?? old.image_url,
    imageCaption: a.imageUrl ? a.imageCaption : (a.imageCaption ?? old.image_caption),
    imageCredit: a.imageUrl ? a.imageCredit : (a.imageCredit ?? old.image_credit),
    section: a.section ?? old.section,
    author: a.author ?? old.author,
  };
}

/** A hash of what a subscriber sees: a change means the story was updated. */
export const articleHash = (a: Pick<Article, 'title' | 'lead'>): string =>
  createHash('sha256').update(`${a.title}\n${a.lead}`).digest('hex').slice(0, 32);

export function rowToArticle(r: ArticleRow): Article {
  return {
    id: r.id,
    url: r.url,
    title: r.title,
    lead: r.lead,
    body: r.body,
    section: r.section,
    tags: JSON.parse(r.tags) as string[],
    imageUrl: r.image_url,
    imageCaption: r.image_caption,
    imageCredit: r.image_credit,
    author: r.author,
    publishedAt: r.published_at ? new Date(r.published_at) : null,
    updatedAt: r.updated_at ? new Date(r.updated_at) : null,
    feedUrl: r.feed_url,
  };
}

function articleColumns(a: Article) {
  return {
    feed_url: storableText(a.feedUrl),
    url: storableText(a.url),
    title: storableText(a.title),
    lead: storableText(a.lead),
    body: storableText(a.body),
    section: storableText(a.section),
    // JSON escapes NUL as \u0000 text: storable as it is.
    tags: JSON.stringify(a.tags),
    image_url: storableText(a.imageUrl),
    image_caption: storableText(a.imageCaption),
    image_credit: storableText(a.imageCredit),
    author: storableText(a.author),
    published_at: a.publishedAt?.toISOString() ?? null,
    updated_at: a.updatedAt?.toISOString() ?? null,
    content_hash: articleHash({ title: storableText(a.title), lead: storableText(a.lead) }),
  };
}

/** The articles table: every story seen, its version, and whether it was posted. */
export class ArticleRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Records a batch of articles from one poll. On a feed's first poll (`firstPoll`), all but the newest
   * `backfill` are recorded as backlog, so adding a feed never floods its destinations. On later polls an
   * item is new only if neither its id (guid) nor its canonical URL is known: a CMS migration that rewrites
   * every guid changes nothing. Items dated older than `maxAgeMs` are recorded without posting (an undated
   * item counts as new), and at most `maxNew` are posted, the newest; the rest are backlog (`heldBack`).
   */
  async record(articles: Article[], opts: RecordOptions): Promise<RecordResult> {
    const nowDate = this.clock();
    const now = nowDate.toISOString();
    const result: RecordResult = { fresh: [], updated: [], backlog: 0, heldBack: 0, stale: 0, unchanged: 0 };
    // Newest first by date, feed order otherwise: the backfill and the cap take the newest.
    const order = articles
      .map((a, i) => ({ a, i }))
      .sort((x, y) => {
        const tx = x.a.publishedAt?.getTime();
        const ty = y.a.publishedAt?.getTime();
        return tx !== undefined && ty !== undefined && tx !== ty ? ty - tx : x.i - y.i;
      });
    const seen = new Set<string>();
    const seenUrls = new Set<string>();
    const maxNew = opts.firstPoll ? opts.backfill : (opts.maxNew ?? Infinity);
    const oldest = !opts.firstPoll && opts.maxAgeMs !== undefined ? nowDate.getTime() - opts.maxAgeMs : -Infinity;
    let posted = 0;
    const unchangedIds: string[] = [];
    await this.db.transaction().execute(async (trx) => {
      const ids = [...new Set(articles.map((a) => a.id))];
      const existing = new Map<string, ArticleRow>();
      for (let i = 0; i < ids.length; i += 300) {
        const rows = await trx.selectFrom('articles').selectAll().where('id', 'in', ids.slice(i, i + 300)).execute();
        for (const r of rows) existing.set(r.id, r);
      }
      // The same story under another id (its guid changed, or an editor pushed its page first).
      const urls = [...new Set(articles.filter((a) => a.url && !existing.has(a.id)).map((a) => storableText(a.url)))];
      const byUrl = new Map<string, ArticleRow>();
      for (let i = 0; i < urls.length; i += 300) {
        const rows = await trx.selectFrom('articles').selectAll().where('url', 'in', urls.slice(i, i + 300)).orderBy('first_seen_at').execute();
        for (const r of rows) if (!byUrl.has(r.url)) byUrl.set(r.url, r);
      }
      for (const { a: item } of order) {
        const known = existing.get(item.id) ?? (item.url ? byUrl.get(storableText(item.url)) : undefined);
        // A known URL keeps its first id, so deliveries, edits and /push history stay on one row.
        const a = known && known.id !== item.id ? { ...item, id: known.id } : item;
        if (seen.has(a.id) || (a.url && seenUrls.has(a.url))) continue;
        seen.add(a.id);
        if (a.url) seenUrls.add(a.url);
        const old = known;
        const cols = articleColumns(a);
        if (!old) {
          const published = a.publishedAt?.getTime();
          const tooOld = published !== undefined && published < oldest;
          const asNew = !tooOld && posted < maxNew;
          if (asNew) posted++;
          else {
            result.backlog++;
            if (tooOld) result.stale++;
            else if (!opts.firstPoll) result.heldBack++;
          }
          await trx
            .insertInto('articles')
            .values({ id: a.id, ...cols, version: 1, state: asNew ? 'new' : 'backlog', first_seen_at: now, changed_at: now, lead_source: null, edits_version: 1, last_seen_at: now })
            .execute();
          if (asNew) result.fresh.push(a);
        } else if (old.content_hash !== cols.content_hash) {
          const version = old.version + 1;
          const kept = keepEnriched(a, old);
          await trx
            .updateTable('articles')
            .set({ ...articleColumns(kept), content_hash: cols.content_hash, lead_source: kept === a ? null : 'page', version, changed_at: now, last_seen_at: now })
            .where('id', '=', a.id)
            .execute();
          result.updated.push({ article: kept, version, firstSeenAt: new Date(old.first_seen_at) });
        } else {
          result.unchanged++;
          unchangedIds.push(a.id);
        }
      }
      // The feed still lists them: retention counts from now (store/retention.ts).
      for (let i = 0; i < unchangedIds.length; i += 300)
        await trx.updateTable('articles').set({ last_seen_at: now }).where('id', 'in', unchangedIds.slice(i, i + 300)).execute();
    });
    // Posted oldest first, so a channel reads in publication order.
    result.fresh.reverse();
    return result;
  }

  /**
   * Stores what the article's page added to a thin feed item (lead, body, image…), so edits and a restart
   * render the same message as the first post. The content hash stays the feed's, so the next poll of an
   * unchanged feed still finds the item unchanged.
   */
  async saveEnriched(a: Article): Promise<void> {
    const { content_hash: _feedHash, ...cols } = articleColumns(a);
    await this.db.updateTable('articles').set({ ...cols, lead_source: 'page' }).where('id', '=', a.id).execute();
  }

  /** The edits of `version` are queued (or there were none to queue): a restart need not queue them again. */
  async editsQueued(id: string, version: number): Promise<void> {
    await this.db.updateTable('articles').set({ edits_version: version }).where('id', '=', id).where('edits_version', '<', version).execute();
  }

  /** Articles whose latest version was recorded but whose edits were never queued (a stop in between). */
  async editsUnqueued(limit = 500): Promise<{ article: Article; version: number }[]> {
    const rows = await this.db
      .selectFrom('articles')
      .selectAll()
      .whereRef('edits_version', '<', 'version')
      .orderBy('changed_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ article: rowToArticle(r), version: r.version }));
  }

  /** Inserts or refreshes one article outside a feed (an editor's push, a webhook); returns its version. */
  async put(a: Article): Promise<number> {
    const now = this.clock().toISOString();
    const old = await this.db.selectFrom('articles').select(['version', 'content_hash']).where('id', '=', a.id).executeTakeFirst();
    const cols = articleColumns(a);
    if (!old) {
      await this.db
        .insertInto('articles')
        .values({ id: a.id, ...cols, version: 1, state: 'routed', first_seen_at: now, changed_at: now, lead_source: null, edits_version: 1, last_seen_at: now })
        .execute();
      return 1;
    }
    if (old.content_hash === cols.content_hash) {
      await this.db.updateTable('articles').set({ last_seen_at: now }).where('id', '=', a.id).execute();
      return old.version;
    }
    // A push routes its own version and edits nothing: its edits count as queued.
    await this.db
      .updateTable('articles')
      .set({ ...cols, version: old.version + 1, edits_version: old.version + 1, lead_source: null, changed_at: now, last_seen_at: now })
      .where('id', '=', a.id)
      .execute();
    return old.version + 1;
  }

  async setState(ids: string[], state: 'routed' | 'new' | 'skipped'): Promise<void> {
    for (let i = 0; i < ids.length; i += 300)
      await this.db.updateTable('articles').set({ state }).where('id', 'in', ids.slice(i, i + 300)).execute();
  }

  /** Articles recorded as new but not yet routed (a crash between recording and routing). */
  async unrouted(limit = 500): Promise<Article[]> {
    const rows = await this.db.selectFrom('articles').selectAll().where('state', '=', 'new').orderBy('first_seen_at').limit(limit).execute();
    return rows.map(rowToArticle);
  }

  async get(id: string): Promise<(Article & { version: number }) | undefined> {
    const r = await this.db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { ...rowToArticle(r), version: r.version } : undefined;
  }

  async byUrl(url: string): Promise<Article | undefined> {
    const r = await this.db.selectFrom('articles').selectAll().where('url', '=', url).orderBy('first_seen_at', 'desc').executeTakeFirst();
    return r ? rowToArticle(r) : undefined;
  }

  /** The most recent articles (by publication, then first sight), optionally filtered. */
  async latest(limit: number, filter?: (a: Article) => boolean): Promise<Article[]> {
    const out: Article[] = [];
    const rows = await this.db
      .selectFrom('articles')
      .selectAll()
      .orderBy('first_seen_at', 'desc')
      .limit(filter ? 1000 : limit * 4)
      .execute();
    const sorted = rows
      .map(rowToArticle)
      .sort((a, b) => (b.publishedAt?.getTime() ?? 0) - (a.publishedAt?.getTime() ?? 0));
    for (const a of sorted) {
      if (filter && !filter(a)) continue;
      out.push(a);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Distinct sections of the articles seen recently, most frequent first. */
  async sections(limit = 1000): Promise<string[]> {
    const rows = await this.db
      .selectFrom('articles')
      .select('section')
      .where('section', 'is not', null)
      .orderBy('first_seen_at', 'desc')
      .limit(limit)
      .execute();
    const count = new Map<string, number>();
    for (const r of rows) if (r.section) count.set(r.section, (count.get(r.section) ?? 0) + 1);
    return [...count.entries()].sort((a, b) => b[1] - a[1]).map(([s]) => s);
  }
}
