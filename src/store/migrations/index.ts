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
