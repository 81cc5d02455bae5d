import type { Generated } from 'kysely';

/**
 * Database tables. Times are ISO-8601 UTC strings (`Date#toISOString()`): they sort as text and read
 * the same on SQLite and PostgreSQL. JSON columns are text holding JSON.
 */
export interface Database {
  feeds: FeedTable;
  articles: ArticleTable;
  destinations: DestinationTable;
  deliveries: DeliveryTable;
  subscribers: SubscriberTable;
  subscriptions: SubscriptionTable;
  audit_log: AuditTable;
  settings: SettingTable;
  wa_auth: WaAuthTable;
  leases: LeaseTable;
  pending_pushes: PendingPushTable;
  instance_lock: InstanceLockTable;
  websub_subscriptions: WebSubSubscriptionTable;
  digest_items: DigestItemTable;
  digest_slots: DigestSlotTable;
  subscriber_alerts: SubscriberAlertTable;
  desk_sessions: DeskSessionTable;
  instances: InstanceTable;
  feed_claims: FeedClaimTable;
  rate_budget: RateBudgetTable;
  telegram_updates: TelegramUpdateTable;
  reply_hits: ReplyHitTable;
}

/** A signed-in web desk session (src/desk/auth.ts): the id is the cookie value. */
export interface DeskSessionTable {
  id: string;
  user_name: string;
  csrf: string;
  created_at: string;
  expires_at: string;
}

export interface FeedTable {
  url: string;
  /** Where a permanent redirect (301/308) sent us: polled instead of `url` from then on. */
  final_url: string | null;
  title: string | null;
  etag: string | null;
  last_modified: string | null;
  /** Seconds the feed asks us to wait between polls (Cache-Control max-age, RSS ttl). */
  min_interval_s: number | null;
  last_polled_at: string | null;
  last_ok_at: string | null;
  next_poll_at: string | null;
  failures: number;
  last_error: string | null;
  /** Set once the first successful poll recorded the backlog: later items are new. */
  primed_at: string | null;
  created_at: string;
  /** New items the last poll recorded without posting because of MAX_NEW_PER_POLL (0 when none). */
  held_back: Generated<number>;
  /** When that poll ran; null when no poll ever held items back. */
  held_back_at: string | null;
  /** 1: added at run time (`manchete feeds add` / `import`) and polled until removed; 0: a configured feed's state. */
  managed: Generated<number>;
  /** A managed feed's section default (items that name none get it). */
  section: string | null;
  /** A managed feed's own poll interval in seconds (null: POLL_INTERVAL). */
  interval_s: number | null;
  /** Who added a managed feed (`cli (ana)`, `opml subscriptions.opml (ana)`). */
  added_by: string | null;
  added_at: string | null;
  /** The feed's place in its interval, in millionths: polls land at epoch + k × interval + phase × interval. */
  poll_phase: Generated<number>;
  /** 1 while the feed is in the list being polled; 0 after it left it (kept for its history, never polled). */
  watched: Generated<number>;
  /** The last poll that got a body (HTTP 200): every current item of the feed was seen then. Null before one. */
  last_body_at: string | null;
}

export interface ArticleTable {
  id: string;
  feed_url: string | null;
  url: string;
  title: string;
  lead: string;
  body: string;
  section: string | null;
  /** JSON array of strings. */
  tags: string;
  image_url: string | null;
  image_caption: string | null;
  image_credit: string | null;
  author: string | null;
  published_at: string | null;
  updated_at: string | null;
  /** Hash of title + lead: a change means the story was updated. */
  content_hash: string;
  /** 1 on first sight, +1 on each change of title or lead. */
  version: number;
  /** 'new' (to be routed), 'backlog' (seen on a feed's first poll, never posted), 'routed'. */
  state: string;
  first_seen_at: string;
  changed_at: string;
  /** 'page' when the lead came from the article's page (the feed's was thin); null when from the feed. */
  lead_source: string | null;
  /** The version whose edits were queued; below `version` when the process stopped in between. */
  edits_version: Generated<number>;
  /** The last poll whose feed listed it (or its recording by a push): RETENTION counts from here. */
  last_seen_at: string | null;
}

export interface DestinationTable {
  /** `telegram:@canal`, `telegram:-1001234`, `telegram:-1001234:42` (forum topic), `whatsapp:1203…@g.us`. */
  id: string;
  platform: string;
  chat_id: string;
  thread_id: string | null;
  /** 'active' | 'dead' */
  status: string;
  status_reason: string | null;
  /** JSON object of per-destination options from the routes file. */
  options: string;
  /** The kind of destination: 'channel', 'group', 'private', 'newsletter', 'community'. */
  kind: string | null;
  title: string | null;
  updated_at: string;
}

export interface DeliveryTable {
  id: Generated<number>;
  article_id: string | null;
  destination_id: string;
  /** 'article' | 'edit' | 'reply' | 'digest' */
  kind: string;
  /** Higher goes first: editor pushes jump the regular queue. */
  priority: number;
  /** 'pending' | 'sending' | 'sent' | 'failed' | 'dead' | 'cancelled' */
  status: string;
  /** JSON array of OutboundMessage. */
  payload: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  /** JSON array of the platform's message ids once sent. */
  message_ids: string | null;
  /** The article version this delivery rendered. */
  article_version: number;
  /** The instance holding a 'sending' claim, and until when. */
  claimed_by: string | null;
  claimed_until: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

export interface SubscriberTable {
  /** `telegram:<chat id>` or `whatsapp:<jid>` */
  id: string;
  platform: string;
  chat_id: string;
  locale: string;
  active: number;
  name: string | null;
  created_at: string;
  updated_at: string;
}

export interface SubscriptionTable {
  subscriber_id: string;
  /** Folded topic key (lower case, no accents): `politica`. */
  topic: string;
  created_at: string;
}

export interface AuditTable {
  id: Generated<number>;
  actor: string;
  action: string;
  detail: string | null;
  outcome: string;
  /** The article the line is about (pushes), or null. */
  article_id: string | null;
  created_at: string;
}

/** One keyword alert of a private subscriber (`/alerta`). */
export interface SubscriberAlertTable {
  subscriber_id: string;
  /** As the subscriber typed it (trimmed, single spaces): what /alertas lists. */
  phrase: string;
  /** Folded (foldText: no accents, lower case): what matching and removal compare. */
  folded: string;
  created_at: string;
}

export interface SettingTable {
  key: string;
  value: string;
  updated_by: string | null;
  updated_at: string;
}

export interface WaAuthTable {
  session: string;
  /** 'creds' or a Baileys SignalDataTypeMap key ('pre-key', 'session', 'lid-mapping', ...). */
  type: string;
  key_id: string;
  /** JSON written with Baileys' BufferJSON.replacer. */
  value: string;
}

export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: string;
}

/** A push waiting for its editor's "Enviar", so a restart in between does not lose it. */
export interface PendingPushTable {
  /** The confirmation code (upper case). */
  code: string;
  /** `telegram:12345`: the editor who started it. */
  actor: string;
  /** JSON of the PendingPush (dates as ISO strings). */
  push: string;
  created_at: string;
}

/** The one running instance of a database (`name` is 'main'): see store/instance-lock.ts. */
export interface InstanceLockTable {
  name: string;
  /** `host:pid:random`, made at start. */
  holder: string;
  host: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  expires_at: string;
}

/** A WebSub subscription of one feed at its hub (sources/websub.ts). */
export interface WebSubSubscriptionTable {
  /** Random, URL-safe: the callback is PUBLIC_URL/websub/<id>. Knowing it is not enough to notify (signatures). */
  id: string;
  /** The configured feed this subscription stands for (FEED_URLS or the routes file). */
  feed_url: string;
  hub: string;
  /** hub.topic: the feed's self link, else the URL it was polled at. */
  topic: string;
  /** hub.secret, random per subscription: notifications are signed with it. Never logged. */
  secret: string;
  /** 'pending' (asked, not verified) | 'live' (verified, lease running) | 'failed' (the hub refused or was unreachable) | 'denied'. */
  state: string;
  /** 'subscribe' | 'unsubscribe' while a request waits for the hub's verification (a live row renewing stays live). */
  pending_mode: string | null;
  /** The lease the hub granted (its verification's hub.lease_seconds). */
  lease_seconds: number | null;
  requested_at: string | null;
  verified_at: string | null;
  /** verified_at + lease: renewed before this. */
  expires_at: string | null;
  /** A failed or denied request is tried again at this time. */
  next_attempt_at: string | null;
  failures: Generated<number>;
  last_error: string | null;
  last_notified_at: string | null;
  created_at: string;
}

/** An article collected for a destination's digest (`mode: digest` or `both`): see delivery/digests.ts. */
export interface DigestItemTable {
  destination_id: string;
  article_id: string;
  collected_at: string;
  /** The slot of the digest that took it; null while it waits for the next digest. */
  digest_slot: string | null;
}

/** A digest slot handled for a destination: sent (with its delivery) or empty (nothing collected). */
export interface DigestSlotTable {
  destination_id: string;
  /** Scheduled: the slot's instant (ISO UTC); an editor's `/resumo`: `manual:<ISO time>`. */
  slot: string;
  /** 'scheduled' | 'manual' */
  kind: string;
  /** The digest's delivery; null when nothing was collected (nothing sent). */
  delivery_id: number | null;
  /** Articles shown in the digest. */
  articles: number;
  /** Who sent a manual digest (`telegram:12345`); null for scheduled ones. */
  actor: string | null;
  created_at: string;
}

/** One running `manchete start` (store/instances.ts): heartbeat, expiry and what it holds. */
export interface InstanceTable {
  /** `host:pid:random` (lib/instance.ts). */
  id: string;
  host: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  expires_at: string;
  /** JSON `InstanceHolds`. */
  holds: Generated<string>;
}

/** Who is polling a feed now (store/claims.ts); `holder` null once released. */
export interface FeedClaimTable {
  url: string;
  holder: string | null;
  expires_at: string;
}

/** A platform's send budget shared by every instance (store/rate-budget.ts). */
export interface RateBudgetTable {
  name: string;
  /** The next free send slot, µs since the epoch by the database's clock. */
  next_at_us: number | string;
}

/** Telegram update ids handled lately, so each is handled once by one instance (store/update-dedupe.ts). */
export interface TelegramUpdateTable {
  update_id: number | string;
  seen_at: string;
}

/** Replies counted per user for REPLY_RATE on PostgreSQL (store/reply-rate.ts). */
export interface ReplyHitTable {
  id: Generated<number>;
  key: string;
  at_ms: number | string;
}
