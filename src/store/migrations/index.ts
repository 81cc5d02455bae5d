import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';

export type DialectKind = 'sqlite' | 'postgres';

/**
 * Migrations, in order. Only the kysely schema builder and portable SQL: the same list runs on SQLite and
 * PostgreSQL. Never edit a migration that has shipped; add the next one.
 */
export function migrations(dialect: DialectKind): Record<string, Migration> {
  /** An auto-numbered primary key: `integer primary key autoincrement` on SQLite, an identity column on PostgreSQL. */
  const serialKey = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();
  return {
  '001_feeds_articles': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('feeds')
        .addColumn('url', 'text', (c) => c.primaryKey())
        .addColumn('final_url', 'text')
        .addColumn('title', 'text')
        .addColumn('etag', 'text')
        .addColumn('last_modified', 'text')
        .addColumn('min_interval_s', 'integer')
        .addColumn('last_polled_at', 'text')
        .addColumn('last_ok_at', 'text')
        .addColumn('next_poll_at', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('primed_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('articles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('feed_url', 'text')
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('lead', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('section', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('image_url', 'text')
        .addColumn('image_caption', 'text')
        .addColumn('image_credit', 'text')
        .addColumn('author', 'text')
        .addColumn('published_at', 'text')
        .addColumn('updated_at', 'text')
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('articles_url').on('articles').column('url').execute();
      await db.schema.createIndex('articles_state').on('articles').column('state').execute();
      await db.schema.createIndex('articles_first_seen').on('articles').column('first_seen_at').execute();
    },
  },
  '002_delivery': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('destinations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull())
        .addColumn('thread_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('kind', 'text')
        .addColumn('title', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('deliveries')
        .addColumn('id', 'integer', serialKey)
        .addColumn('article_id', 'text')
        .addColumn('destination_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('message_ids', 'text')
        .addColumn('article_version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .execute();
      await db.schema
        .createIndex('deliveries_queue')
        .on('deliveries')
        .columns(['status', 'priority desc', 'id'])
        .execute();
      await db.schema.createIndex('deliveries_article').on('deliveries').columns(['article_id', 'destination_id']).execute();
      await db.schema.createIndex('deliveries_destination').on('deliveries').columns(['destination_id', 'status']).execute();
    },
  },
  '003_commands': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('subscribers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull())
        .addColumn('locale', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('subscriptions')
        .addColumn('subscriber_id', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('subscriptions_pk', ['subscriber_id', 'topic'])
        .execute();
      await db.schema.createIndex('subscriptions_topic').on('subscriptions').column('topic').execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'integer', serialKey)
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '004_whatsapp': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('wa_auth')
        .addColumn('session', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('wa_auth_pk', ['session', 'type', 'key_id'])
        .execute();
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '005_self_healing': {
    async up(db: Kysely<unknown>) {
      // New items a poll held back over MAX_NEW_PER_POLL (recorded, not posted), for /status.
      await db.schema.alterTable('feeds').addColumn('held_back', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('feeds').addColumn('held_back_at', 'text').execute();
      // 'page' when the lead (and maybe body and image) came from the article's page, not the feed.
      await db.schema.alterTable('articles').addColumn('lead_source', 'text').execute();
      // The version whose edits were queued: lower than `version` after a crash between the two.
      await db.schema.alterTable('articles').addColumn('edits_version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await sql`update articles set edits_version = version`.execute(db);
      await db.schema
        .createTable('pending_pushes')
        .addColumn('code', 'text', (c) => c.primaryKey())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('push', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pending_pushes_actor').on('pending_pushes').column('actor').execute();
      await db.schema
        .createTable('instance_lock')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '006_audit_alerts': {
    async up(db: Kysely<unknown>) {
      // The article an audit line is about (a push), as its own column: "last pushed by" reads it.
      await db.schema.alterTable('audit_log').addColumn('article_id', 'text').execute();
      await db.schema.createIndex('audit_log_article').on('audit_log').columns(['article_id', 'action']).execute();
      // Keyword alerts of private subscribers (/alerta): the words as typed, and folded (accents and case
      // removed, single spaces) for matching and for "already there" / removal.
      await db.schema
        .createTable('subscriber_alerts')
        .addColumn('subscriber_id', 'text', (c) => c.notNull())
        .addColumn('phrase', 'text', (c) => c.notNull())
        .addColumn('folded', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('subscriber_alerts_pk', ['subscriber_id', 'folded'])
        .execute();
    },
  },
  '008_digests': {
    async up(db: Kysely<unknown>) {
      // Articles collected for a destination's next digest; `digest_slot` is the digest that took them (null: waiting).
      await db.schema
        .createTable('digest_items')
        .addColumn('destination_id', 'text', (c) => c.notNull())
        .addColumn('article_id', 'text', (c) => c.notNull())
        .addColumn('collected_at', 'text', (c) => c.notNull())
        .addColumn('digest_slot', 'text')
        .addPrimaryKeyConstraint('digest_items_pk', ['destination_id', 'article_id'])
        .execute();
      await db.schema.createIndex('digest_items_waiting').on('digest_items').columns(['destination_id', 'digest_slot']).execute();
      // One row per digest slot handled (sent, or empty): the key makes a slot impossible to send twice.
      await db.schema
        .createTable('digest_slots')
        .addColumn('destination_id', 'text', (c) => c.notNull())
        .addColumn('slot', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'integer')
        .addColumn('articles', 'integer', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('digest_slots_pk', ['destination_id', 'slot'])
        .execute();
    },
  },
  '009_managed_feeds': {
    async up(db: Kysely<unknown>) {
      // Feeds added at run time (`manchete feeds add` / `import`) beside the configured ones: 1 when the
      // row is such a feed (polled until removed), 0 for a configured feed's polling state.
      await db.schema.alterTable('feeds').addColumn('managed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('feeds').addColumn('section', 'text').execute();
      await db.schema.alterTable('feeds').addColumn('interval_s', 'integer').execute();
      await db.schema.alterTable('feeds').addColumn('added_by', 'text').execute();
      await db.schema.alterTable('feeds').addColumn('added_at', 'text').execute();
      // Every poll tick reads the managed feeds: an index keeps that one small read with 10,000 rows.
      await db.schema.createIndex('feeds_managed').on('feeds').column('managed').execute();
    },
  },
  '010_websub': {
    async up(db: Kysely<unknown>) {
      // One row per WebSub subscription: the callback id is the row's key (PUBLIC_URL/websub/<id>).
      await db.schema
        .createTable('websub_subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('feed_url', 'text', (c) => c.notNull())
        .addColumn('hub', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('pending_mode', 'text')
        .addColumn('lease_seconds', 'integer')
        .addColumn('requested_at', 'text')
        .addColumn('verified_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('next_attempt_at', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('last_notified_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('websub_subscriptions_feed').on('websub_subscriptions').column('feed_url').execute();
    },
  },
  '011_desk': {
    async up(db: Kysely<unknown>) {
      // Web desk sign-ins: the id is the cookie's value (random), the CSRF token goes with the session.
      await db.schema
        .createTable('desk_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('desk_sessions_expiry').on('desk_sessions').column('expires_at').execute();
    },
  },
  '012_scale': {
    async up(db: Kysely<unknown>) {
      // Each feed's place in its interval (0…999999 millionths), so polls spread over the interval.
      await db.schema.alterTable('feeds').addColumn('poll_phase', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      // 1 while the feed is in the list being polled (configured or managed); 0 once it leaves it.
      await db.schema.alterTable('feeds').addColumn('watched', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      // The last poll that got a body (200): the feed's current items were all seen then.
      await db.schema.alterTable('feeds').addColumn('last_body_at', 'text').execute();
      // When a feed last listed the article: retention keeps what a feed still lists.
      await db.schema.alterTable('articles').addColumn('last_seen_at', 'text').execute();
      // Existing rows count as seen now: nothing is pruned until RETENTION has passed under the new rules.
      const now = new Date().toISOString();
      await sql`update feeds set next_poll_at = created_at where next_poll_at is null`.execute(db);
      await sql`update feeds set last_body_at = ${now}`.execute(db);
      await sql`update articles set last_seen_at = ${now}`.execute(db);
      // Existing feeds get their phase from their URL (new ones add a random part; see FeedRepo).
      const rows = await sql<{ url: string }>`select url from feeds`.execute(db);
      for (const r of rows.rows) await sql`update feeds set poll_phase = ${urlPhase(r.url)} where url = ${r.url}`.execute(db);
      await db.schema.createIndex('feeds_due').on('feeds').columns(['watched', 'next_poll_at']).execute();
      await db.schema.createIndex('articles_last_seen').on('articles').columns(['last_seen_at', 'id']).execute();
      // Finished replies (no article) are pruned by age: a small partial index finds them.
      await db.schema.createIndex('deliveries_replies').on('deliveries').column('created_at').where(sql.ref('article_id'), 'is', null).execute();
    },
  },
  '014_multi_instance': {
    async up(db: Kysely<unknown>) {
      // Several `manchete start` on one PostgreSQL database (store/instances.ts, store/claims.ts…). The
      // tables exist on SQLite too (one schema), where one process uses them alone.
      await db.schema
        .createTable('instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        // JSON: what the instance held at its last heartbeat (updates lease, WhatsApp sessions, feeds, chats).
        .addColumn('holds', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .createTable('feed_claims')
        .addColumn('url', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      // The shared send budget of a platform: the next free slot, in µs since the epoch (database clock).
      await db.schema
        .createTable('rate_budget')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('next_at_us', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('telegram_updates')
        .addColumn('update_id', 'bigint', (c) => c.primaryKey())
        .addColumn('seen_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('telegram_updates_seen').on('telegram_updates').column('seen_at').execute();
      await db.schema
        .createTable('reply_hits')
        .addColumn('id', 'integer', serialKey)
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('reply_hits_key').on('reply_hits').columns(['key', 'at_ms']).execute();
      await db.schema.createIndex('deliveries_claims').on('deliveries').columns(['status', 'claimed_until']).execute();
    },
  },
  };
}

/** FNV-1a of the URL as millionths of the interval: the phase a feed row gets when the migration adds it. */
function urlPhase(url: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) {
    h ^= url.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return Math.floor((h / 2 ** 32) * 1_000_000);
}
