import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { packageRoot } from './paths.js';
import { parseAllowList } from './sources/guard.js';
import { normalizeWhatsAppNumber } from './platforms/whatsapp/numbers.js';

/**
 * Configuration: read from the environment once, validated, and handed to every module as a typed value.
 * Nothing else in Manchete reads `process.env`. A wrong value stops the start with a message that names
 * the variable, says what is wrong and shows an example.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `120s`, `2m`, `1h`, `500ms`, `1h30m`, or a bare number of seconds. Returns milliseconds, or null. */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === t.length && matched > 0 ? Math.round(total) : null;
}

/** `5MB`, `512KB`, `1048576`. Returns bytes, or null. */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$/i.exec(text);
  if (!m) return null;
  const mult: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };
  return Math.round(Number(m[1]) * mult[(m[2] ?? 'b').toLowerCase()]!);
}

const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);

const duration = (name: string, example: string) =>
  z.string().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `${name}="${v}" is not a duration; use ${example}` });
      return z.NEVER;
    }
    return ms;
  });

/** A size of at least 1 KB: `5MB`, `512KB`. */
const size = (name: string) =>
  z.string().transform((v, ctx) => {
    const b = parseBytes(v);
    if (b === null || b < 1024) {
      ctx.addIssue({ code: 'custom', message: `${name}="${v}" is not a size; use 5MB or 512KB` });
      return z.NEVER;
    }
    return b;
  });

const int = (name: string, min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${name}="${v}" must be a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

const bool = (name: string) =>
  z.string().transform((v, ctx) => {
    const t = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on', 'sim'].includes(t)) return true;
    if (['0', 'false', 'no', 'off', 'nao', 'não', ''].includes(t)) return false;
    ctx.addIssue({ code: 'custom', message: `${name}="${v}" is not a boolean; use true or false` });
    return z.NEVER;
  });

/** A range like `4s-8s` (WhatsApp's jittered gap). */
const range = (name: string, example: string) =>
  z.string().transform((v, ctx) => {
    const parts = v.split('-').map((p) => parseDuration(p));
    const [a, b] = parts.length === 1 ? [parts[0], parts[0]] : parts;
    if (parts.length > 2 || a == null || b == null || b < a) {
      ctx.addIssue({ code: 'custom', message: `${name}="${v}" is not a duration range; use ${example}` });
      return z.NEVER;
    }
    return { min: a, max: b };
  });

const rate = (name: string) =>
  z.string().transform((v, ctx) => {
    // `10/min`, or with a window length: `5/10min`.
    const m = /^\s*(\d+)\s*\/\s*(\d{0,4})\s*(s|sec|second|m|min|minute|h|hour)s?\s*$/i.exec(v);
    if (!m || (m[2] !== '' && Number(m[2]) === 0)) {
      ctx.addIssue({ code: 'custom', message: `${name}="${v}" is not a rate; use 10/min, 1/s, 100/hour or 5/10min` });
      return z.NEVER;
    }
    const unit = m[3]!.toLowerCase().startsWith('s') ? 1000 : m[3]!.toLowerCase().startsWith('m') ? 60_000 : 3_600_000;
    return { count: Number(m[1]), perMs: unit * (m[2] === '' ? 1 : Number(m[2])) };
  });

/** A percentage like `20%` (or `0.2`), as a fraction from `min` to `max`. */
const share = (name: string, min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(v);
    const f = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
    if (!(f >= min && f <= max)) {
      ctx.addIssue({ code: 'custom', message: `${name}="${v}" must be a percentage from ${min * 100}% to ${max * 100}%, e.g. 20%` });
      return z.NEVER;
    }
    return f;
  });

const str = z.string().transform((s) => s.trim());

/** The environment variables with their defaults, as strings: the single source for `.env.example` and the README. */
export const DEFAULTS = {
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'auto',
  DATABASE_URL: 'sqlite:./data/manchete.db',
  FEED_URLS: 'examples/feed.xml',
  POLL_INTERVAL: '2m',
  TZ: 'America/Sao_Paulo',
  BACKFILL: '0',
  MAX_NEW_PER_POLL: '20',
  MAX_ARTICLE_AGE: '48h',
  POLL_CONCURRENCY: '64',
  POLL_CONCURRENCY_PER_HOST: '4',
  RETENTION: '90d',
  FETCH_TIMEOUT: '15s',
  FEED_MAX_BYTES: '5MB',
  PAGE_MAX_BYTES: '5MB',
  USER_AGENT: 'Manchete/0.1 (+https://github.com/manchete; news to chat)',
  FETCH_PAGES: 'true',
  FETCH_ALLOW_PRIVATE: '',
  FEEDS_IMPORT_CONCURRENCY: '16',
  FEEDS_IMPORT_PER_HOST: '2',
  SUMMARY_MAX_CHARS: '300',
  ITEM_HTML_MAX_BYTES: '256KB',
  TEMPLATES_DIR: 'templates',
  LOCALE: 'pt-BR',
  ROUTES_FILE: '',
  UTM_TAGS: 'on',
  HTTP_PORT: '8080',
  HTTP_HOST: '127.0.0.1',
  ADMIN_HOST: '127.0.0.1',
  ADMIN_PORT: '8081',
  SHUTDOWN_GRACE: '10s',
  ADMIN_PASSWORD: '',
  ADMIN_USERS: '',
  DESK_SESSION_TTL: '12h',
  DESK_ON_PUBLIC: 'false',
  DESK_TRUST_PROXY: 'false',
  INSTANCE_LEASE: '30s',
  TELEGRAM_BOT_TOKEN: '',
  TELEGRAM_API_ROOT: 'https://api.telegram.org',
  TELEGRAM_CHATS: '',
  TELEGRAM_MAX_PER_SECOND: '30',
  TELEGRAM_CHAT_GAP: '1s',
  TELEGRAM_GROUP_PER_MINUTE: '20',
  TELEGRAM_PAID_BROADCAST: 'off',
  TELEGRAM_PAID_MAX_PER_SECOND: '1000',
  TELEGRAM_WEBHOOK_URL: '',
  TELEGRAM_WEBHOOK_SECRET: '',
  MAX_ATTEMPTS: '8',
  EDIT_WINDOW: '24h',
  EDITORS: '',
  LATEST_COUNT: '5',
  REPLY_RATE: '10/min',
  WHATSAPP_ENABLED: 'false',
  WHATSAPP_CHATS: '',
  WHATSAPP_SESSION: 'default',
  WHATSAPP_GAP: '4s-8s',
  WHATSAPP_CHAT_GAP: '30s',
  WHATSAPP_HOURLY_CAP: '60',
  WHATSAPP_REPLY_SHARE: '20%',
  WHATSAPP_GROUP_REPLY_RATE: '5/10min',
  WHATSAPP_PRIVATE_PUSH: 'false',
  PUBLISH_WEBHOOK_SECRET: '',
  PUBLISH_FEED: '',
  PUBLISH_SECTION: '',
  PUBLIC_URL: '',
  WEBSUB_ENABLED: 'true',
  WEBSUB_LEASE: '7d',
  WEBSUB_POLL_INTERVAL: '30m',
} as const;

export type EnvName = keyof typeof DEFAULTS;

const schema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']),
  DATABASE_URL: str,
  FEED_URLS: str.transform(list),
  POLL_INTERVAL: duration('POLL_INTERVAL', '120s, 2m or 1h'),
  TZ: str,
  BACKFILL: int('BACKFILL', 0, 1000),
  MAX_NEW_PER_POLL: int('MAX_NEW_PER_POLL', 1, 10_000),
  MAX_ARTICLE_AGE: duration('MAX_ARTICLE_AGE', '48h or 7d'),
  POLL_CONCURRENCY: int('POLL_CONCURRENCY', 1, 1000),
  POLL_CONCURRENCY_PER_HOST: int('POLL_CONCURRENCY_PER_HOST', 1, 100),
  RETENTION: z.string().transform((v, ctx) => {
    if (/^\s*(off|0)\s*$/i.test(v)) return null;
    const ms = parseDuration(v);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `RETENTION="${v}" is not a duration; use 90d, 30d or off` });
      return z.NEVER;
    }
    return ms;
  }),
  FETCH_TIMEOUT: duration('FETCH_TIMEOUT', '15s'),
  FEED_MAX_BYTES: size('FEED_MAX_BYTES'),
  PAGE_MAX_BYTES: size('PAGE_MAX_BYTES'),
  USER_AGENT: str,
  FETCH_PAGES: bool('FETCH_PAGES'),
  FETCH_ALLOW_PRIVATE: str.transform(list),
  FEEDS_IMPORT_CONCURRENCY: int('FEEDS_IMPORT_CONCURRENCY', 1, 256),
  FEEDS_IMPORT_PER_HOST: int('FEEDS_IMPORT_PER_HOST', 1, 64),
  SUMMARY_MAX_CHARS: int('SUMMARY_MAX_CHARS', 60, 3000),
  ITEM_HTML_MAX_BYTES: size('ITEM_HTML_MAX_BYTES'),
  TEMPLATES_DIR: str,
  LOCALE: z.enum(['pt-BR', 'en']),
  ROUTES_FILE: str,
  UTM_TAGS: bool('UTM_TAGS'),
  HTTP_PORT: int('HTTP_PORT', 0, 65535),
  HTTP_HOST: str,
  ADMIN_HOST: str,
  ADMIN_PORT: int('ADMIN_PORT', 0, 65535),
  SHUTDOWN_GRACE: duration('SHUTDOWN_GRACE', '10s'),
  ADMIN_PASSWORD: str,
  ADMIN_USERS: str.transform(list),
  DESK_SESSION_TTL: duration('DESK_SESSION_TTL', '12h'),
  DESK_ON_PUBLIC: bool('DESK_ON_PUBLIC'),
  DESK_TRUST_PROXY: bool('DESK_TRUST_PROXY'),
  INSTANCE_LEASE: duration('INSTANCE_LEASE', '30s').refine((ms) => ms >= 1000 && ms <= 600_000, { message: 'INSTANCE_LEASE must be between 1s and 10m, e.g. 30s' }),
  TELEGRAM_BOT_TOKEN: str.refine((v) => v === '' || /^\d+:[A-Za-z0-9_-]{20,}$/.test(v), {
    message: 'TELEGRAM_BOT_TOKEN does not look like a bot token; it is "<digits>:<35 characters>" as @BotFather gives it',
  }),
  TELEGRAM_API_ROOT: str.refine((v) => /^https?:\/\/[^/]+/.test(v), {
    message: 'TELEGRAM_API_ROOT must be an http(s) URL, e.g. https://api.telegram.org',
  }),
  TELEGRAM_CHATS: str.transform(list),
  TELEGRAM_MAX_PER_SECOND: int('TELEGRAM_MAX_PER_SECOND', 1, 1000),
  TELEGRAM_CHAT_GAP: duration('TELEGRAM_CHAT_GAP', '1s'),
  TELEGRAM_GROUP_PER_MINUTE: int('TELEGRAM_GROUP_PER_MINUTE', 1, 1000),
  TELEGRAM_PAID_BROADCAST: z.enum(['off', 'subscribers'], {
    message: 'TELEGRAM_PAID_BROADCAST must be off or subscribers (paid broadcasts to private subscribers, charged in Stars)',
  }),
  TELEGRAM_PAID_MAX_PER_SECOND: int('TELEGRAM_PAID_MAX_PER_SECOND', 1, 1000),
  TELEGRAM_WEBHOOK_URL: str,
  TELEGRAM_WEBHOOK_SECRET: str,
  MAX_ATTEMPTS: int('MAX_ATTEMPTS', 1, 100),
  EDIT_WINDOW: duration('EDIT_WINDOW', '24h'),
  EDITORS: str.transform(list),
  LATEST_COUNT: int('LATEST_COUNT', 1, 20),
  REPLY_RATE: rate('REPLY_RATE'),
  WHATSAPP_ENABLED: bool('WHATSAPP_ENABLED'),
  WHATSAPP_CHATS: str.transform(list),
  WHATSAPP_SESSION: str,
  WHATSAPP_GAP: range('WHATSAPP_GAP', '4s-8s'),
  WHATSAPP_CHAT_GAP: duration('WHATSAPP_CHAT_GAP', '30s'),
  WHATSAPP_HOURLY_CAP: int('WHATSAPP_HOURLY_CAP', 1, 10_000),
  WHATSAPP_REPLY_SHARE: share('WHATSAPP_REPLY_SHARE', 0, 0.5),
  WHATSAPP_GROUP_REPLY_RATE: rate('WHATSAPP_GROUP_REPLY_RATE'),
  WHATSAPP_PRIVATE_PUSH: bool('WHATSAPP_PRIVATE_PUSH'),
  PUBLISH_WEBHOOK_SECRET: str,
  PUBLISH_FEED: str,
  PUBLISH_SECTION: str,
  PUBLIC_URL: str,
  WEBSUB_ENABLED: bool('WEBSUB_ENABLED'),
  WEBSUB_LEASE: duration('WEBSUB_LEASE', '7d or 24h'),
  WEBSUB_POLL_INTERVAL: duration('WEBSUB_POLL_INTERVAL', '30m or 1h'),
});

type Env = z.output<typeof schema>;

export interface Editor {
  platform: 'telegram' | 'whatsapp';
  id: string;
}

export interface Config {
  logLevel: Env['LOG_LEVEL'];
  logFormat: Env['LOG_FORMAT'];
  databaseUrl: string;
  feeds: string[];
  pollIntervalMs: number;
  timeZone: string;
  backfill: number;
  /** New items one poll posts at most; the rest are recorded without posting. */
  maxNewPerPoll: number;
  /** New items published longer ago than this are recorded without posting. */
  maxArticleAgeMs: number;
  /** Polls at once overall and against one host (POLL_CONCURRENCY, POLL_CONCURRENCY_PER_HOST). */
  pollConcurrency: { overall: number; perHost: number };
  /** RETENTION: articles no feed has listed for this long are pruned with their finished deliveries; null: kept forever. */
  retentionMs: number | null;
  /** `allowPrivate`: FETCH_ALLOW_PRIVATE's CIDRs, which URLs from feed content, pages, redirects and chat may still reach. */
  fetch: { timeoutMs: number; maxBytes: number; pageMaxBytes: number; userAgent: string; fetchPages: boolean; allowPrivate: string[] };
  /** `manchete feeds import`: feeds checked at once overall (FEEDS_IMPORT_CONCURRENCY) and per host (FEEDS_IMPORT_PER_HOST). */
  feedsImport: { concurrency: number; perHost: number };
  summaryMaxChars: number;
  /** Longest summary/content HTML of one feed item read for text, in bytes (ITEM_HTML_MAX_BYTES). */
  itemHtmlMaxBytes: number;
  templatesDir: string;
  locale: 'pt-BR' | 'en';
  routesFile: string | null;
  /** UTM_TAGS: campaign tags on posted links unless a destination sets its own `utm`. */
  utmTags: boolean;
  /** The listener Telegram's webhook reaches (HTTP_*); without a webhook it also serves /health and /metrics. */
  http: { port: number; host: string };
  /** Where /health and /metrics go in webhook mode (ADMIN_*), so they never face the internet. */
  admin: { port: number; host: string };
  /**
   * The web desk (src/desk): off without a password. `users` are name → bcrypt hash (ADMIN_USERS, or
   * `admin` with ADMIN_PASSWORD hashed at start); `onPublic` serves it on the webhook listener too
   * (DESK_ON_PUBLIC); `secureCookies` when PUBLIC_URL is https; `trustProxy` reads X-Forwarded-Proto/-For.
   */
  desk: { users: { name: string; hash: string }[]; password: string | null; sessionTtlMs: number; onPublic: boolean; secureCookies: boolean; trustProxy: boolean };
  /**
   * Under the test runner (NODE_ENV=test) port 0 means "any free port" instead of "off", so parallel test
   * apps never collide. Read here, with the rest of the environment, so the composition root reads none.
   */
  listenAnyPort: boolean;
  shutdownGraceMs: number;
  /**
   * INSTANCE_LEASE: with several instances on one PostgreSQL database, how long what a dead instance held
   * (feed claims, delivery claims, chat leases, the Telegram updates lease, WhatsApp sessions) stays
   * its own; the others take over within this time. Heartbeats renew it every third.
   */
  instanceLeaseMs: number;
  maxAttempts: number;
  editWindowMs: number;
  editors: Editor[];
  latestCount: number;
  replyRate: { count: number; perMs: number };
  telegram: {
    token: string | null;
    apiRoot: string;
    chats: string[];
    maxPerSecond: number;
    chatGapMs: number;
    groupPerMinute: number;
    /**
     * `subscribers`: sends to private chats carry `allow_paid_broadcast` and are paced up to
     * `paidMaxPerSecond` overall (Telegram charges Stars per message); `off`: the free 30/s.
     */
    paidBroadcast: 'off' | 'subscribers';
    paidMaxPerSecond: number;
    webhookUrl: string | null;
    webhookSecret: string | null;
  };
  whatsapp: {
    enabled: boolean;
    chats: string[];
    session: string;
    gapMs: { min: number; max: number };
    chatGapMs: number;
    hourlyCap: number;
    /** Fraction of hourlyCap kept for command replies (posts may not use it; replies may use only it). */
    replyShare: number;
    /** Replies per group (any chat that is not private) over a window, shared by all its members. */
    groupReplyRate: { count: number; perMs: number };
    privatePush: boolean;
  };
  /**
   * The CMS publish hook (POST /hooks/publish): off (null secret) unless PUBLISH_WEBHOOK_SECRET is set.
   * `feedUrl` is the feed its stories count as (routes-file settings and destinations' `feeds` apply);
   * PUBLISH_FEED, else the first of FEED_URLS. `section` is given to stories that name none.
   */
  publish: { secret: string | null; feedUrl: string | null; section: string | null };
  /** PUBLIC_URL without a trailing slash: where hubs reach this instance (callbacks under /websub/). */
  publicUrl: string | null;
  /** WebSub subscriptions: on when `enabled` and PUBLIC_URL is set. */
  websub: { enabled: boolean; leaseSeconds: number; pollIntervalMs: number };
}

/** Parses an environment (normally `process.env`) into a Config, or throws a ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const [k, d] of Object.entries(DEFAULTS)) {
    const v = env[k];
    input[k] = v === undefined || v.trim() === '' ? d : v;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '');
        return i.message.includes(name) ? i.message : `${name}="${input[name]}": ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  try {
    new Intl.DateTimeFormat('en', { timeZone: e.TZ });
  } catch {
    problems.push(`TZ="${e.TZ}" is not a time zone; use an IANA name such as America/Sao_Paulo`);
  }
  const editors: Editor[] = [];
  for (const item of e.EDITORS) {
    const m = /^(telegram|whatsapp|tg|wa):(.+)$/i.exec(item);
    if (!m) {
      problems.push(`EDITORS entry "${item}" is not platform:id; use telegram:12345,whatsapp:5511999998888`);
      continue;
    }
    // Normalised here, once, so the command router compares plain strings (commands/editors.ts).
    const platform = m[1]!.toLowerCase().startsWith('t') ? 'telegram' : 'whatsapp';
    const raw = m[2]!.trim();
    const id = platform === 'whatsapp' ? normalizeWhatsAppNumber(raw) : /^-?\d{1,20}$/.test(raw) ? raw : null;
    if (id === null) {
      problems.push(
        platform === 'whatsapp'
          ? `EDITORS entry "${item}" is not a WhatsApp phone number; use the number with country code, e.g. whatsapp:5511999998888`
          : `EDITORS entry "${item}" is not a Telegram user id (an integer); ask @userinfobot for it, e.g. telegram:12345`,
      );
      continue;
    }
    editors.push({ platform, id });
  }
  try {
    parseAllowList(e.FETCH_ALLOW_PRIVATE);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (e.RETENTION !== null && e.RETENTION <= e.MAX_ARTICLE_AGE)
    problems.push(`RETENTION=${input.RETENTION} must be longer than MAX_ARTICLE_AGE=${input.MAX_ARTICLE_AGE}: a pruned story that reappears is recognised as too old to post only then; use 90d, or off`);
  if (e.FEED_URLS.length === 0) problems.push('FEED_URLS is empty; give at least one feed URL or file, e.g. https://site/feed');
  if (e.TELEGRAM_WEBHOOK_URL && !/^https:\/\//.test(e.TELEGRAM_WEBHOOK_URL))
    problems.push(`TELEGRAM_WEBHOOK_URL="${e.TELEGRAM_WEBHOOK_URL}" must be an https URL, e.g. https://bot.example.com/telegram`);
  if (e.TELEGRAM_WEBHOOK_URL && e.ADMIN_PORT > 0 && e.ADMIN_PORT === e.HTTP_PORT)
    problems.push(`ADMIN_PORT=${e.ADMIN_PORT} is HTTP_PORT too; in webhook mode /health and /metrics need their own port (default 8081), so give ADMIN_PORT another one`);
  if (e.PUBLISH_WEBHOOK_SECRET && e.PUBLISH_WEBHOOK_SECRET.length < 16)
    problems.push('PUBLISH_WEBHOOK_SECRET is shorter than 16 characters; use a long random one, e.g. the output of `openssl rand -hex 32`');
  if (e.PUBLIC_URL && !/^https?:\/\/[^/]+/.test(e.PUBLIC_URL))
    problems.push(`PUBLIC_URL="${e.PUBLIC_URL}" must be this instance's public http(s) address (hubs call back there; the desk's cookies are Secure when it is https), e.g. https://manchete.example.com`);
  if (e.WEBSUB_LEASE < 60_000) problems.push(`WEBSUB_LEASE="${input.WEBSUB_LEASE}" is under a minute; use 7d or 24h`);
  const deskUsers: { name: string; hash: string }[] = [];
  for (const item of e.ADMIN_USERS) {
    const at = item.indexOf(':');
    const name = at > 0 ? item.slice(0, at).trim() : '';
    const hash = at > 0 ? item.slice(at + 1).trim() : '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name) || !/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash))
      problems.push(`ADMIN_USERS entry "${name || item.slice(0, 20)}…" is not name:bcrypt-hash; make a hash with: manchete desk hash-password`);
    else deskUsers.push({ name, hash });
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    databaseUrl: e.DATABASE_URL,
    feeds: e.FEED_URLS,
    pollIntervalMs: e.POLL_INTERVAL,
    timeZone: e.TZ,
    backfill: e.BACKFILL,
    maxNewPerPoll: e.MAX_NEW_PER_POLL,
    maxArticleAgeMs: e.MAX_ARTICLE_AGE,
    pollConcurrency: { overall: e.POLL_CONCURRENCY, perHost: e.POLL_CONCURRENCY_PER_HOST },
    retentionMs: e.RETENTION,
    fetch: {
      timeoutMs: e.FETCH_TIMEOUT,
      maxBytes: e.FEED_MAX_BYTES,
      pageMaxBytes: e.PAGE_MAX_BYTES,
      userAgent: e.USER_AGENT,
      fetchPages: e.FETCH_PAGES,
      allowPrivate: e.FETCH_ALLOW_PRIVATE,
    },
    feedsImport: { concurrency: e.FEEDS_IMPORT_CONCURRENCY, perHost: e.FEEDS_IMPORT_PER_HOST },
    summaryMaxChars: e.SUMMARY_MAX_CHARS,
    itemHtmlMaxBytes: e.ITEM_HTML_MAX_BYTES,
    templatesDir: templatesFolder(e.TEMPLATES_DIR),
    locale: e.LOCALE,
    routesFile: e.ROUTES_FILE || null,
    utmTags: e.UTM_TAGS,
    http: { port: e.HTTP_PORT, host: e.HTTP_HOST },
    admin: { port: e.ADMIN_PORT, host: e.ADMIN_HOST },
    desk: {
      users: deskUsers,
      password: e.ADMIN_PASSWORD || null,
      sessionTtlMs: e.DESK_SESSION_TTL,
      onPublic: e.DESK_ON_PUBLIC,
      secureCookies: e.PUBLIC_URL.startsWith('https://'),
      trustProxy: e.DESK_TRUST_PROXY,
    },
    // Tests build their config from a literal env; the runner's own NODE_ENV still counts.
    listenAnyPort: (env.NODE_ENV ?? process.env.NODE_ENV) === 'test',
    shutdownGraceMs: e.SHUTDOWN_GRACE,
    instanceLeaseMs: e.INSTANCE_LEASE,
    maxAttempts: e.MAX_ATTEMPTS,
    editWindowMs: e.EDIT_WINDOW,
    editors,
    latestCount: e.LATEST_COUNT,
    replyRate: e.REPLY_RATE,
    telegram: {
      token: e.TELEGRAM_BOT_TOKEN || null,
      apiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      chats: e.TELEGRAM_CHATS,
      maxPerSecond: e.TELEGRAM_MAX_PER_SECOND,
      chatGapMs: e.TELEGRAM_CHAT_GAP,
      groupPerMinute: e.TELEGRAM_GROUP_PER_MINUTE,
      paidBroadcast: e.TELEGRAM_PAID_BROADCAST,
      paidMaxPerSecond: e.TELEGRAM_PAID_MAX_PER_SECOND,
      webhookUrl: e.TELEGRAM_WEBHOOK_URL || null,
      webhookSecret: e.TELEGRAM_WEBHOOK_SECRET || null,
    },
    whatsapp: {
      enabled: e.WHATSAPP_ENABLED,
      chats: e.WHATSAPP_CHATS,
      session: e.WHATSAPP_SESSION,
      gapMs: e.WHATSAPP_GAP,
      chatGapMs: e.WHATSAPP_CHAT_GAP,
      hourlyCap: e.WHATSAPP_HOURLY_CAP,
      replyShare: e.WHATSAPP_REPLY_SHARE,
      groupReplyRate: e.WHATSAPP_GROUP_REPLY_RATE,
      privatePush: e.WHATSAPP_PRIVATE_PUSH,
    },
    publish: {
      secret: e.PUBLISH_WEBHOOK_SECRET || null,
      feedUrl: e.PUBLISH_FEED || e.FEED_URLS[0] || null,
      section: e.PUBLISH_SECTION || null,
    },
    publicUrl: e.PUBLIC_URL ? e.PUBLIC_URL.replace(/\/+$/, '') : null,
    websub: { enabled: e.WEBSUB_ENABLED, leaseSeconds: Math.round(e.WEBSUB_LEASE / 1000), pollIntervalMs: e.WEBSUB_POLL_INTERVAL },
  };
}

/**
 * TEMPLATES_DIR as a folder: absolute as given; relative to the working folder when it exists there (an
 * operator's own templates), else Manchete's bundled one, so the CLI works from any folder.
 */
function templatesFolder(dir: string): string {
  if (isAbsolute(dir)) return dir;
  const here = resolve(dir);
  return existsSync(here) ? here : join(packageRoot(), dir);
}
