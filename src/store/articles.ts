import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Article } from '../articles/article.js';
import { storableText, type Db } from './db.js';
import type { ArticleTable } from './schema.js';

export type ArticleRow = Selectable<ArticleTable>;

/** What recording a feed's articles changed. */
export interface RecordResult {
  /** Never seen before and to be posted. */
  fresh: Article[];
  /** Seen before, and the title or lead changed: `version` is the new version. */
  updated: { article: Article; version: number; firstSeenAt: Date }[];
  /** Seen for the first time on a feed's first poll: recorded, never posted. */
  backlog: number;
  unchanged: number;
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
   * `backfill` are recorded as backlog, so adding a feed never floods its destinations.
   */
  async record(articles: Article[], opts: { firstPoll: boolean; backfill: number }): Promise<RecordResult> {
    const now = this.clock().toISOString();
    const result: RecordResult = { fresh: [], updated: [], backlog: 0, unchanged: 0 };
    // Newest first by date, feed order otherwise: the backfill takes the newest.
    const order = articles
      .map((a, i) => ({ a, i }))
      .sort((x, y) => {
        const tx = x.a.publishedAt?.getTime();
        const ty = y.a.publishedAt?.getTime();
        return tx !== undefined && ty !== undefined && tx !== ty ? ty - tx : x.i - y.i;
      });
    const seen = new Set<string>();
    let posted = 0;
    await this.db.transaction().execute(async (trx) => {
      const ids = [...new Set(articles.map((a) => a.id))];
      const existing = new Map<string, ArticleRow>();
      for (let i = 0; i < ids.length; i += 300) {
        const rows = await trx.selectFrom('articles').selectAll().where('id', 'in', ids.slice(i, i + 300)).execute();
        for (const r of rows) existing.set(r.id, r);
      }
      for (const { a } of order) {
        if (seen.has(a.id)) continue;
        seen.add(a.id);
        const old = existing.get(a.id);
        const cols = articleColumns(a);
        if (!old) {
          const asNew = !opts.firstPoll || posted < opts.backfill;
          if (asNew) posted++;
          else result.backlog++;
          await trx
            .insertInto('articles')
            .values({ id: a.id, ...cols, version: 1, state: asNew ? 'new' : 'backlog', first_seen_at: now, changed_at: now })
            .execute();
          if (asNew) result.fresh.push(a);
        } else if (old.content_hash !== cols.content_hash) {
          const version = old.version + 1;
          await trx.updateTable('articles').set({ ...cols, version, changed_at: now }).where('id', '=', a.id).execute();
          result.updated.push({ article: a, version, firstSeenAt: new Date(old.first_seen_at) });
        } else {
          result.unchanged++;
        }
      }
    });
    // Posted oldest first, so a channel reads in publication order.
    result.fresh.reverse();
    return result;
  }

  /** Inserts or refreshes one article outside a feed (an editor's push, a webhook); returns its version. */
  async put(a: Article): Promise<number> {
    const now = this.clock().toISOString();
    const old = await this.db.selectFrom('articles').select(['version', 'content_hash']).where('id', '=', a.id).executeTakeFirst();
    const cols = articleColumns(a);
    if (!old) {
      await this.db.insertInto('articles').values({ id: a.id, ...cols, version: 1, state: 'routed', first_seen_at: now, changed_at: now }).execute();
      return 1;
    }
    if (old.content_hash === cols.content_hash) return old.version;
    await this.db.updateTable('articles').set({ ...cols, version: old.version + 1, changed_at: now }).where('id', '=', a.id).execute();
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
