import { resolve } from 'node:path';
import type { Article } from '../articles/article.js';
import { plainText } from './escape.js';
import { createTemplateEngine, TemplateError, type TemplateEngine } from './engine.js';
import { fitTelegram, fitWhatsApp, type FitOptions, type LinkPreview } from './fit.js';
import { createLocaleLoader, formatString, type LocaleStrings } from './locales.js';
import { dropUnsafeLinks } from './links.js';
import { measureTelegramHtml } from './telegram-html.js';
import { httpUrl } from '../articles/canonical.js';
import type { OutboundMessage, Platform, RenderOptions } from './types.js';
import { tagUrl } from './utm.js';

/**
 * The renderer: Article → messages ready for one platform. It fills the destination's template
 * (default `article`) with the article and the locale's strings, checks that Telegram output is
 * valid Telegram HTML, and fits the result to the platform's limits (photo or text, split when long).
 * Templates and locale files are read once and kept compiled; rendering does no I/O after that.
 */

/** The article as templates see it (`it.article`): text fields tidied, dates formatted in the locale and time zone. */
export interface ArticleView extends Omit<Article, 'publishedAt' | 'updatedAt'> {
  /** On one line, trimmed (a newline would break bold on WhatsApp). */
  title: string;
  /** Trimmed; paragraphs kept (at most one blank line between them). */
  lead: string;
  /** Date and time, e.g. `24 de set. de 2018, 19:42` (pt-BR) or `Sep 24, 2018, 7:42 PM` (en); null when unknown. */
  publishedAt: string | null;
  /** Date only, e.g. `24/09/2018`. */
  publishedDate: string | null;
  /** Time only, e.g. `19:42`. */
  publishedTime: string | null;
  /** ISO 8601 in UTC, for machine-readable uses. */
  publishedAtIso: string | null;
  updatedAt: string | null;
  updatedAtIso: string | null;
}

/** Helpers every template gets, bound to the render's locale. */
export interface TemplateHelpers {
  /** `Coreia do Norte` → `#CoreiaDoNorte`; letters (accents kept), digits and `_` only; '' when nothing is left. */
  hashtag(text: unknown): string;
  /** Upper case in the locale (`política` → `POLÍTICA`). */
  upper(text: unknown): string;
  /** Lower case in the locale. */
  lower(text: unknown): string;
  /** Fills `{name}` placeholders: `it.format(it.t.moreCount, { n: 3 })`. */
  format(template: string, vars?: Record<string, unknown>): string;
  /** Whitespace (newlines included) collapsed to single spaces, trimmed. */
  oneLine(text: unknown): string;
}

/** What every template receives as `it`, besides its own data. */
export interface TemplateContext extends TemplateHelpers {
  /** Locale strings with English fallback per key (`it.t.readMore`). */
  t: LocaleStrings;
  locale: string;
  platform: Platform;
}

/** Resolved per-destination options, as templates see them (`it.destination`). */
export interface DestinationView {
  template: string;
  locale: string;
  photo: boolean;
}

/** Data of a digest (`templates/<platform>/digest.eta`). */
export interface DigestOptions extends RenderOptions {
  /** Heading of the digest; default the locale's `digestTitle`. */
  title?: string;
}

/** Renders articles, digests and other templates for both platforms. */
export interface Renderer {
  /** The messages one destination receives for an article. Throws TemplateError for a missing or broken template. */
  render(article: Article, platform: Platform, options?: RenderOptions): OutboundMessage[];
  /** Both platforms at once (for `manchete preview` and the console). */
  renderBoth(article: Article, options?: Partial<Record<Platform, RenderOptions>>): Record<Platform, OutboundMessage[]>;
  /**
   * Any template of a platform with your own data (command replies, notices), returned unsplit: Telegram
   * HTML (checked valid) or WhatsApp markup. `it` holds `t`, `locale`, the helpers and `data`'s fields;
   * `data.locale` picks the locale. Pass the result to `fitText` to get messages within the limits.
   */
  renderString(platform: Platform, templateName: string, data?: Record<string, unknown>): string;
  /** A list of headlines (`digest` template) as messages within the limits. */
  renderDigest(articles: readonly Article[], platform: Platform, options?: DigestOptions): OutboundMessage[];
  /** Text (Telegram HTML or WhatsApp markup) fitted to the platform's limits: one or more text messages. */
  fitText(platform: Platform, text: string): OutboundMessage[];
  /** A locale's strings with English fallback (default: the default locale), e.g. for replies built in code. */
  strings(locale?: string): LocaleStrings;
  /** Reads and compiles the article templates and locale files now, so a broken one fails at start. Throws TemplateError. */
  preload(): void;
}

/** How the renderer is set up: TEMPLATES_DIR (resolved by the caller), LOCALE and TZ. */
export interface RendererOptions {
  templatesDir: string;
  defaultLocale: 'pt-BR' | 'en';
  timeZone: string;
  /** UTM_TAGS: campaign tags on article links for destinations that set none of their own. Default true. */
  utmTags?: boolean;
}

interface DateFormatters {
  dateTime: Intl.DateTimeFormat;
  date: Intl.DateTimeFormat;
  time: Intl.DateTimeFormat;
}

const DEFAULT_TEMPLATE = 'article';
/** Hashtags remembered per locale; sections are few, so the memo is emptied if it ever grows past this. */
const MAX_CACHED_HASHTAGS = 512;
/**
 * Whitespace runs that are not already a single space. Rewriting only these gives what rewriting every
 * run gives, without rebuilding strings that have nothing to change (most titles and leads).
 */
const WS_RE = /\s{2,}|[^\S ]/g;
const HSPACE_RE = /[ \t]{2,}|\t/g;

function oneLine(value: unknown): string {
  return plainText(value).replace(WS_RE, ' ').trim();
}

function tidyLead(value: string): string {
  let s = plainText(value).replace(HSPACE_RE, ' ');
  if (s.includes('\n')) s = s.replace(/ ?\n ?/g, '\n').replace(/\n{3,}/g, '\n\n');
  return s.trim();
}

/**
 * Turns a lazily computed property of `target` into a plain data property holding `value`: what a
 * template that assigns to one of the view's lazy fields gets, as it would with an ordinary object.
 */
function settle(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

const orNull = (s: string | null): string | null => {
  if (s === null) return null;
  const t = oneLine(s);
  return t === '' ? null : t;
};

const validDate = (d: Date | null): d is Date => d instanceof Date && !Number.isNaN(d.getTime());

/** Creates a renderer. Nothing is read from disk until the first render (or `preload`). */
export function createRenderer(opts: RendererOptions): Renderer {
  const engines: Record<Platform, TemplateEngine> = {
    telegram: createTemplateEngine({ templatesDir: opts.templatesDir, format: 'telegram' }),
    whatsapp: createTemplateEngine({ templatesDir: opts.templatesDir, format: 'whatsapp' }),
  };
  const locales = createLocaleLoader(opts.templatesDir);
  const formatters = new Map<string, DateFormatters>();
  const contexts = new Map<string, Omit<TemplateContext, 'platform'>>();

  function formattersFor(locale: string): DateFormatters {
    let f = formatters.get(locale);
    if (!f) {
      const timeZone = opts.timeZone;
      f = {
        dateTime: new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }),
        date: new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeZone }),
        time: new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone }),
      };
      formatters.set(locale, f);
    }
    return f;
  }

  function contextFor(locale: string): Omit<TemplateContext, 'platform'> {
    let c = contexts.get(locale);
    if (!c) {
      const t = locales.get(locale);
      const hashtags = new Map<string, string>();
      c = {
        t,
        locale,
        hashtag(text) {
          // Sections repeat from article to article: each name is turned into a hashtag once.
          const key = plainText(text);
          let tag = hashtags.get(key);
          if (tag === undefined) {
            const words = key.normalize('NFC').split(/[^\p{L}\p{M}\p{N}_]+/u).filter(Boolean);
            tag = words.length === 0 ? '' : `#${words.map((w) => w.charAt(0).toLocaleUpperCase(locale) + w.slice(1)).join('')}`;
            if (hashtags.size >= MAX_CACHED_HASHTAGS) hashtags.clear();
            hashtags.set(key, tag);
          }
          return tag;
        },
        upper: (text) => plainText(text).toLocaleUpperCase(locale),
        lower: (text) => plainText(text).toLocaleLowerCase(locale),
        format: (template, vars) => formatString(plainText(template), vars),
        oneLine,
      };
      contexts.set(locale, c);
    }
    return c;
  }

  /**
   * The article as templates see it. The fields the default templates never read (the body, the
   * formatted dates) are computed on first read, once: an Intl date format and a pass over the whole
   * body cost more than the rest of a render.
   */
  function view(article: Article, locale: string, url = article.url.trim()): ArticleView {
    contextFor(locale); // checks the locale (and loads its strings) before Intl sees it
    const f = formattersFor(locale);
    const pub = validDate(article.publishedAt) ? article.publishedAt : null;
    const upd = validDate(article.updatedAt) ? article.updatedAt : null;
    const rawBody = article.body;
    let body: string | undefined;
    let publishedAt: string | null | undefined;
    let publishedDate: string | null | undefined;
    let publishedTime: string | null | undefined;
    let updatedAt: string | null | undefined;
    let publishedAtIso: string | null | undefined;
    let updatedAtIso: string | null | undefined;
    return {
      id: article.id,
      url,
      title: oneLine(article.title),
      lead: tidyLead(article.lead),
      get body() {
        return (body ??= plainText(rawBody));
      },
      set body(v) {
        settle(this, 'body', v);
      },
      section: orNull(article.section),
      tags: article.tags.map(oneLine).filter(Boolean),
      imageUrl: httpUrl(article.imageUrl),
      imageCaption: orNull(article.imageCaption),
      imageCredit: orNull(article.imageCredit),
      author: orNull(article.author),
      feedUrl: article.feedUrl,
      get publishedAt() {
        return publishedAt === undefined ? (publishedAt = pub ? f.dateTime.format(pub) : null) : publishedAt;
      },
      set publishedAt(v) {
        settle(this, 'publishedAt', v);
      },
      get publishedDate() {
        return publishedDate === undefined ? (publishedDate = pub ? f.date.format(pub) : null) : publishedDate;
      },
      set publishedDate(v) {
        settle(this, 'publishedDate', v);
      },
      get publishedTime() {
        return publishedTime === undefined ? (publishedTime = pub ? f.time.format(pub) : null) : publishedTime;
      },
      set publishedTime(v) {
        settle(this, 'publishedTime', v);
      },
      get publishedAtIso() {
        return publishedAtIso === undefined ? (publishedAtIso = pub ? pub.toISOString() : null) : publishedAtIso;
      },
      set publishedAtIso(v) {
        settle(this, 'publishedAtIso', v);
      },
      get updatedAt() {
        return updatedAt === undefined ? (updatedAt = upd ? f.dateTime.format(upd) : null) : updatedAt;
      },
      set updatedAt(v) {
        settle(this, 'updatedAt', v);
      },
      get updatedAtIso() {
        return updatedAtIso === undefined ? (updatedAtIso = upd ? upd.toISOString() : null) : updatedAtIso;
      },
      set updatedAtIso(v) {
        settle(this, 'updatedAtIso', v);
      },
    };
  }

  /** The article link as posted: with campaign tags (render/utm.ts), added here so stored URLs never carry them. */
  function linkFor(article: Article, platform: Platform, options: RenderOptions | undefined): string {
    // Only http(s) addresses become links, previews or photos, whatever reached the article.
    const url = httpUrl(article.url);
    if (url === null) return '';
    return options?.utm === undefined && opts.utmTags === false ? url : tagUrl(url, platform, options?.utm);
  }

  function resolve(platform: Platform, options: RenderOptions | undefined): DestinationView {
    return {
      template: options?.template ?? DEFAULT_TEMPLATE,
      locale: options?.locale ?? opts.defaultLocale,
      photo: options?.photo ?? platform === 'telegram',
    };
  }

  /** Renders a template and, for Telegram, checks the HTML; returns the text and its Telegram length. */
  function produce(platform: Platform, name: string, data: object): { text: string; length: number } {
    const rendered = engines[platform].render(name, data).trim();
    if (platform === 'whatsapp') return { text: rendered, length: rendered.length };
    const text = dropUnsafeLinks(rendered);
    const m = measureTelegramHtml(text);
    if (m.error !== null) {
      const file = `${engines.telegram.dir}/${name}.eta`;
      throw new TemplateError(
        `telegram/${name}`,
        file,
        `template ${file} produced HTML that Telegram would reject: ${m.error}. Use only Telegram's tags and write values with <%= %> (escaped), not <%~ %>`,
      );
    }
    return { text, length: m.length };
  }

  function renderArticle(article: Article, platform: Platform, av: ArticleView, dest: DestinationView): OutboundMessage[] {
    const c = contextFor(dest.locale);
    // Spelled out rather than spread: spreading the context costs more than the rest of this function.
    const data = {
      t: c.t,
      locale: c.locale,
      hashtag: c.hashtag,
      upper: c.upper,
      lower: c.lower,
      format: c.format,
      oneLine: c.oneLine,
      platform,
      article: av,
      destination: dest,
    } satisfies TemplateContext & { article: ArticleView; destination: DestinationView };
    const { text, length } = produce(platform, dest.template, data);
    if (platform === 'telegram') {
      const fit: FitOptions = { imageUrl: av.imageUrl, photo: dest.photo, previewUrl: (dest.photo && av.imageUrl) || av.url || null };
      return fitTelegram(text, fit, length);
    }
    const preview: LinkPreview = { title: av.title, description: av.lead };
    if (av.imageUrl) preview.imageUrl = av.imageUrl;
    return fitWhatsApp(text, { imageUrl: av.imageUrl, photo: dest.photo, previewUrl: av.url || null, preview });
  }

  const renderer: Renderer = {
    render(article, platform, options) {
      const dest = resolve(platform, options);
      return renderArticle(article, platform, view(article, dest.locale, linkFor(article, platform, options)), dest);
    },

    renderBoth(article, options) {
      const tg = resolve('telegram', options?.telegram);
      const wa = resolve('whatsapp', options?.whatsapp);
      const tgView = view(article, tg.locale, linkFor(article, 'telegram', options?.telegram));
      const waUrl = linkFor(article, 'whatsapp', options?.whatsapp);
      const waView = wa.locale === tg.locale && waUrl === tgView.url ? tgView : view(article, wa.locale, waUrl);
      return { telegram: renderArticle(article, 'telegram', tgView, tg), whatsapp: renderArticle(article, 'whatsapp', waView, wa) };
    },

    renderString(platform, templateName, data = {}) {
      const locale = typeof data.locale === 'string' ? data.locale : opts.defaultLocale;
      return produce(platform, templateName, { ...contextFor(locale), platform, ...data, locale }).text;
    },

    renderDigest(articles, platform, options) {
      const dest = resolve(platform, options);
      const name = options?.template ?? 'digest';
      const ctx = contextFor(dest.locale);
      const data = {
        ...ctx,
        platform,
        destination: { ...dest, template: name },
        title: options?.title ?? ctx.t.digestTitle ?? '',
        articles: articles.map((a) => view(a, dest.locale, linkFor(a, platform, options))),
      };
      const { text } = produce(platform, name, data);
      return renderer.fitText(platform, text);
    },

    fitText(platform, text) {
      if (platform === 'whatsapp') return fitWhatsApp(text);
      const m = measureTelegramHtml(text);
      if (m.error !== null) throw new Error(`cannot send text as Telegram HTML: ${m.error}; escape values with escapeHtml`);
      return fitTelegram(text, {}, m.length);
    },

    strings(locale) {
      return locales.get(locale ?? opts.defaultLocale);
    },

    preload() {
      locales.get(opts.defaultLocale);
      engines.telegram.load(DEFAULT_TEMPLATE);
      engines.whatsapp.load(DEFAULT_TEMPLATE);
    },
  };
  return renderer;
}

/**
 * The renderer the configuration describes (TEMPLATES_DIR, LOCALE, TIME_ZONE, UTM_TAGS). Every command
 * that renders (start, push, preview, the template check) makes it here, so they cannot drift apart:
 * a preview without the UTM tags the posts carry would show a link that is never posted.
 */
export function rendererFor(config: { templatesDir: string; locale: 'pt-BR' | 'en'; timeZone: string; utmTags: boolean }): Renderer {
  return createRenderer({ templatesDir: resolve(config.templatesDir), defaultLocale: config.locale, timeZone: config.timeZone, utmTags: config.utmTags });
}
