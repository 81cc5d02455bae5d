import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { parse as ParseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../config.js';
import { compileFilter } from './filters.js';
import type { DestinationOptions, DigestSettings, FilterRules } from './types.js';

/**
 * The optional routes file (ROUTES_FILE, YAML or JSON): which feeds go to which destinations, per-feed
 * settings, and per-destination options. See examples/routes.yaml.
 */

const QUIET = /^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$/;

const feedSchema = z.object({
  url: z.string().min(1),
  interval: z
    .string()
    .optional()
    .refine((v) => v === undefined || parseDuration(v) !== null, { message: 'interval is not a duration; use 5m or 300s' }),
  boilerplate: z.array(z.string()).optional(),
  backfill: z.number().int().min(0).max(1000).optional(),
  /** A section given to the feed's articles when they carry none. */
  section: z.string().optional(),
});

const words = z.array(z.union([z.string(), z.number()]).transform(String)).optional();

/** `include:` / `exclude:` of a destination (see delivery/filters.ts). Unknown keys are refused: a typo must not widen a filter. */
const filterSchema = z
  .object({ keywords: words, sections: words, tags: words, authors: words, match: z.string().optional() })
  .strict();

const utmSchema = z.union([
  z.literal(false),
  z
    .object({ source: z.string().min(1).optional(), medium: z.string().min(1).optional(), campaign: z.string().min(1).optional(), content: z.string().min(1).optional() })
    .strict(),
]);

/** A digest time: `07:00` or `7:00`, in TZ. */
const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

const timeSchema = z.unknown().transform((v, ctx) => {
  const m = typeof v === 'string' ? TIME.exec(v.trim()) : null;
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a time of day; write it as "HH:MM" (quoted), e.g. "07:00" or "18:30"` });
    return z.NEVER;
  }
  return `${m[1]!.padStart(2, '0')}:${m[2]}`;
});

/** `digest:` of a destination. Unknown keys are refused: `maxi: 5` must not silently become 10. */
const digestSchema = z
  .object({
    at: z.array(timeSchema).min(1, 'digest.at needs at least one time, e.g. at: ["07:00"]'),
    max: z.number({ error: 'digest.max must be a whole number of articles, at least 1' }).int('digest.max must be a whole number').min(1, 'digest.max must be at least 1').max(100, 'digest.max is at most 100').optional(),
    title: z.string().trim().min(1, 'digest.title is empty; leave it out for the default title').optional(),
    sections: words,
  })
  .strict();

const destinationSchema = z.object({
  platform: z.enum(['telegram', 'whatsapp']),
  chat: z.union([z.string(), z.number()]).transform(String),
  feeds: z.array(z.string()).optional(),
  sections: z.array(z.string()).optional(),
  template: z.string().regex(/^[\w-]+$/, 'template is a file name under templates/<platform>/ without .eta').optional(),
  locale: z.enum(['pt-BR', 'en']).optional(),
  photo: z.boolean().optional(),
  linkPreview: z.boolean().optional(),
  silent: z.boolean().optional(),
  quietHours: z.string().regex(QUIET, 'quietHours is HH:MM-HH:MM, e.g. 23:00-07:00').optional(),
  include: filterSchema.optional(),
  exclude: filterSchema.optional(),
  utm: utmSchema.optional(),
  mode: z.enum(['live', 'digest', 'both'], { error: 'mode is live, digest or both' }).optional(),
  digest: digestSchema.optional(),
  maxPerHour: z
    .number({ error: 'maxPerHour must be a whole number of posts, at least 1' })
    .int('maxPerHour must be a whole number')
    .min(1, 'maxPerHour must be at least 1 (leave it out for no cap)')
    .max(10_000, 'maxPerHour is at most 10000')
    .optional(),
});

/** Articles per digest when `digest.max` is not given. */
export const DEFAULT_DIGEST_MAX = 10;

/** The digest settings as stored in the options; `mode` and `digest` must agree (errors name the entry). */
function digestOf(d: z.output<typeof destinationSchema>, where: string): DigestSettings | undefined {
  const mode = d.mode ?? 'live';
  if (mode !== 'live' && !d.digest) throw new Error(`${where}: mode: ${mode} needs digest: { at: ["07:00"] } (when to send the digests)`);
  if (!d.digest) return undefined;
  if (mode === 'live')
    throw new Error(`${where}: digest: is set but mode is live (the default); set mode: digest (digests only) or mode: both (live posts and digests)`);
  const sections = d.digest.sections?.filter((x) => x.trim() !== '');
  return {
    at: [...new Set(d.digest.at)].sort(),
    max: d.digest.max ?? DEFAULT_DIGEST_MAX,
    ...(d.digest.title ? { title: d.digest.title } : {}),
    ...(sections?.length ? { sections } : {}),
  };
}

/** The rules as stored in the options: empty lists dropped, so `authors: []` is no rule at all. */
function rules(r: z.output<typeof filterSchema> | undefined): FilterRules | undefined {
  if (!r) return undefined;
  const out: FilterRules = {};
  for (const k of ['keywords', 'sections', 'tags', 'authors'] as const) {
    const list = r[k]?.filter((x) => x.trim() !== '');
    if (list?.length) out[k] = list;
  }
  if (r.match !== undefined && r.match !== '') out.match = r.match;
  return Object.keys(out).length ? out : undefined;
}

const fileSchema = z.object({
  feeds: z.array(feedSchema).optional(),
  destinations: z.array(destinationSchema).optional(),
  topics: z.array(z.string()).optional(),
});

export interface RouteFeed {
  url: string;
  intervalMs: number | null;
  boilerplate: RegExp[];
  backfill: number | null;
  section: string | null;
  /**
   * False for feeds added at run time (`manchete feeds add/import`): polled as hostile input on every hop
   * (http(s), public addresses or FETCH_ALLOW_PRIVATE). Configured feeds leave it out: their first hop is trusted.
   */
  trusted?: boolean;
}

export interface RouteDestination {
  platform: 'telegram' | 'whatsapp';
  chat: string;
  /** Everything else the entry sets, including the feeds and sections it takes. */
  options: DestinationOptions;
}

export interface RoutesFile {
  feeds: RouteFeed[];
  destinations: RouteDestination[];
  topics: string[];
}

export const EMPTY_ROUTES: RoutesFile = { feeds: [], destinations: [], topics: [] };

/** Reads and validates a routes file; errors name the file, the entry and what to change. */
/** yaml is a few MB of a running process and only a routes file needs it: loaded (synchronously) on first use. */
const lazyRequire = createRequire(import.meta.url);
const parseYaml: typeof ParseYaml = ((text: string) => (lazyRequire('yaml') as { parse: typeof ParseYaml }).parse(text)) as typeof ParseYaml;

export function loadRoutesFile(path: string): RoutesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`ROUTES_FILE ${path} cannot be read: ${(err as Error).message}`);
  }
  return parseRoutes(text, path);
}

export function parseRoutes(text: string, name = 'routes file'): RoutesFile {
  let data: unknown;
  try {
    data = name.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${name} is not valid ${name.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = fileSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new Error(`${name} is invalid:\n  - ${lines.join('\n  - ')}`);
  }
  const f = parsed.data;
  return {
    feeds: (f.feeds ?? []).map((x, i) => ({
      url: x.url,
      intervalMs: x.interval ? parseDuration(x.interval) : null,
      boilerplate: (x.boilerplate ?? []).map((p, j) => {
        try {
          return new RegExp(p, 'imu');
        } catch (err) {
          throw new Error(`${name}: feeds.${i}.boilerplate.${j} is not a regular expression: ${(err as Error).message}`);
        }
      }),
      backfill: x.backfill ?? null,
      section: x.section ?? null,
    })),
    destinations: (f.destinations ?? []).map((d, i) => {
      const include = rules(d.include);
      const exclude = rules(d.exclude);
      // Compiled here only to refuse a bad `match` at start, naming the destination and the pattern.
      try {
        compileFilter({ include, exclude }, `destinations.${i} (${d.platform} ${d.chat})`);
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
      const digest = digestOf(d, `${name}: destinations.${i} (${d.platform} ${d.chat})`);
      return {
        platform: d.platform,
        chat: d.chat,
        options: {
          ...(d.feeds ? { feeds: d.feeds } : {}),
          ...(d.sections ? { sections: d.sections } : {}),
          ...(d.template ? { template: d.template } : {}),
          ...(d.locale ? { locale: d.locale } : {}),
          ...(d.photo !== undefined ? { photo: d.photo } : {}),
          ...(d.linkPreview !== undefined ? { linkPreview: d.linkPreview } : {}),
          ...(d.silent !== undefined ? { silent: d.silent } : {}),
          ...(d.quietHours ? { quietHours: d.quietHours } : {}),
          ...(include ? { include } : {}),
          ...(exclude ? { exclude } : {}),
          ...(d.utm !== undefined ? { utm: d.utm } : {}),
          ...(d.mode && d.mode !== 'live' ? { mode: d.mode } : {}),
          ...(digest ? { digest } : {}),
          ...(d.maxPerHour !== undefined ? { maxPerHour: d.maxPerHour } : {}),
        },
      };
    }),
    topics: f.topics ?? [],
  };
}

/**
 * When quiet hours hold at `now` in `timeZone`, the moment they end; otherwise null.
 * `23:00-07:00` spans midnight; `12:00-14:00` does not.
 */
export function quietHoursEnd(spec: string, now: Date, timeZone: string): Date | null {
  const m = QUIET.exec(spec.trim());
  if (!m) return null;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const hh = Number(parts.find((p) => p.type === 'hour')?.value);
  const mm = Number(parts.find((p) => p.type === 'minute')?.value);
  const cur = hh * 60 + mm;
  const inside = start <= end ? cur >= start && cur < end : cur >= start || cur < end;
  if (!inside) return null;
  const minutes = (end - cur + 1440) % 1440;
  const t = new Date(now.getTime() + minutes * 60_000);
  t.setUTCSeconds(0, 0);
  return t;
}
