import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import type { Article } from '../articles/article.js';
import { foldTopic } from '../articles/fold.js';
import type { Destination, DestinationOptions, FilterRules } from './types.js';

/**
 * Per-destination filters (`include` / `exclude` in the routes file) and the reasons routing gives.
 *
 * Article text is hostile, so nothing here backtracks: keywords are compared as token sequences (no
 * regular expression is built from them), and `match` runs on RE2 (re2js), whose time grows linearly
 * with the input whatever the pattern. Filters are compiled once per destination (see `filterFor`).
 */

/** The verdict for one article and one destination, with a reason fit for a log line or `preview --explain`. */
export interface RouteDecision {
  pass: boolean;
  reason: string;
}

export type ArticleFilter = (article: Article) => RouteDecision;

/** A `match` pattern RE2 does not accept; the message names the destination, the pattern and the engine's words. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/** Folded words, split at anything that is not a letter or a digit: `Câmara-dos Deputados!` → camara, dos, deputados. */
export function tokens(text: string): string[] {
  return foldTopic(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Whether `needle` occurs as consecutive whole tokens in `hay`. O(hay × needle); needles are the operator's few words. */
function hasSequence(hay: readonly string[], needle: readonly string[]): boolean {
  if (needle.length === 0 || needle.length > hay.length) return false;
  const last = hay.length - needle.length;
  outer: for (let i = 0; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The fields keyword rules read, tokenised: the title, the lead and each tag on its own (a phrase never
 * spans two tags). Keyword alerts (delivery/alerts.ts) match against the same fields.
 */
export function keywordFields(article: Article): string[][] {
  return readArticle(article).fields.map((f) => f.tokens);
}

/** Whether the tokens of a keyword phrase (`tokens(phrase)`) occur as consecutive whole words in one of `fields`. */
export function fieldsHavePhrase(fields: readonly (readonly string[])[], phrase: readonly string[]): boolean {
  return fields.some((f) => hasSequence(f, phrase));
}

/** One rule of a rule set, compiled: says what of the article it matched, or null. */
type Rule = (a: ArticleText) => string | null;

/** The article as the rules read it, tokenised once per decision. */
interface ArticleText {
  article: Article;
  fields: { name: string; tokens: string[] }[];
  section: string | null;
  tags: string[];
  author: string[];
  /** Title, lead and tags on separate lines: what `match` sees. */
  matchText: string;
}

function readArticle(article: Article): ArticleText {
  return {
    article,
    fields: [
      { name: 'title', tokens: tokens(article.title) },
      { name: 'lead', tokens: tokens(article.lead) },
      // One field per tag: a phrase never spans two tags.
      ...article.tags.map((t) => ({ name: 'tags', tokens: tokens(t) })),
    ],
    section: article.section ? foldTopic(article.section) : null,
    tags: article.tags.map(foldTopic),
    author: article.author ? tokens(article.author) : [],
    matchText: `${article.title}\n${article.lead}\n${article.tags.join('\n')}`,
  };
}

function compileRules(rules: FilterRules | undefined, where: string, destination: string): Rule[] {
  if (!rules) return [];
  const out: Rule[] = [];
  for (const kw of rules.keywords ?? []) {
    const seq = tokens(kw);
    if (seq.length === 0) continue;
    out.push((a) => {
      for (const f of a.fields) if (hasSequence(f.tokens, seq)) return `keyword "${kw}" in ${f.name}`;
      return null;
    });
  }
  for (const s of rules.sections ?? []) {
    const folded = foldTopic(s);
    if (folded) out.push((a) => (a.section === folded ? `section "${s}"` : null));
  }
  for (const t of rules.tags ?? []) {
    const folded = foldTopic(t);
    if (folded) out.push((a) => (a.tags.includes(folded) ? `tag "${t}"` : null));
  }
  for (const name of rules.authors ?? []) {
    const seq = tokens(name);
    if (seq.length) out.push((a) => (hasSequence(a.author, seq) ? `author "${name}"` : null));
  }
  if (rules.match !== undefined && rules.match !== '') {
    const re = compilePattern(rules.match, `${where}.match`, destination);
    const pattern = rules.match;
    out.push((a) => (re.test(a.matchText) ? `pattern ${pattern}` : null));
  }
  return out;
}

let re2: typeof RE2JS | null = null;

/** re2js, loaded with the first `match` pattern: routes without one never pay for the engine (about 1 MB). */
function engine(): typeof RE2JS {
  re2 ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
  return re2;
}

/** Compiles a `match` pattern with RE2 (never RegExp); throws FilterError naming the destination and the pattern. */
export function compilePattern(pattern: string, where: string, destination: string): RE2JS {
  try {
    return engine().compile(pattern);
  } catch (err) {
    throw new FilterError(
      `${destination}: ${where} ${JSON.stringify(pattern)} is not a valid RE2 regular expression: ${(err as Error).message}. ` +
        'RE2 has no lookahead or backreferences; use (?i) for case-insensitive matching',
    );
  }
}

/**
 * Compiles a destination's `include` / `exclude` rules into a pure function. An article passes when it
 * matches any include rule (or there is none) and no exclude rule. `destination` names it in errors.
 * Throws FilterError for an invalid `match` pattern.
 */
export function compileFilter(options: Pick<DestinationOptions, 'include' | 'exclude'>, destination = 'a destination'): ArticleFilter {
  const include = compileRules(options.include, 'include', destination);
  const exclude = compileRules(options.exclude, 'exclude', destination);
  if (include.length === 0 && exclude.length === 0) return () => ({ pass: true, reason: 'no filter' });
  return (article) => {
    const a = readArticle(article);
    let why = 'no include rule';
    if (include.length) {
      let hit: string | null = null;
      for (const r of include) if ((hit = r(a)) !== null) break;
      if (hit === null) return { pass: false, reason: 'matches no include rule' };
      why = `included by ${hit}`;
    }
    for (const r of exclude) {
      const hit = r(a);
      if (hit !== null) return { pass: false, reason: `excluded by ${hit}` };
    }
    return { pass: true, reason: include.length ? why : 'matches no exclude rule' };
  };
}

/** Compiled filters by their rules, so routing compiles each destination's once, not once per article. */
const compiled = new Map<string, ArticleFilter>();
/** Destinations are few; the cache is emptied should their rules ever change that many times. */
const MAX_COMPILED = 256;

/** The compiled filter for a destination, from the cache when its rules are unchanged. */
export function filterFor(dest: Pick<Destination, 'id' | 'options'>): ArticleFilter {
  const key = `${dest.id}\n${JSON.stringify([dest.options.include ?? null, dest.options.exclude ?? null])}`;
  let f = compiled.get(key);
  if (!f) {
    f = compileFilter(dest.options, `destination ${dest.id}`);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, f);
  }
  return f;
}

/**
 * The whole routing decision for one configured destination: its `feeds`, its `sections` (which also
 * match tags, as they always have) and its filters, in that order. Pure apart from the compile cache.
 */
export function routeDecision(
  article: Article,
  dest: Pick<Destination, 'id' | 'options'>,
  /** The feeds it takes when the caller knows better than the options (null: all). */
  feeds: readonly string[] | null = dest.options.feeds ?? null,
): RouteDecision {
  if (feeds && (!article.feedUrl || !feeds.includes(article.feedUrl)))
    return { pass: false, reason: article.feedUrl ? `feed ${article.feedUrl} is not in its feeds` : 'not from a feed, and it takes only some feeds' };
  const sections = dest.options.sections?.map(foldTopic).filter(Boolean);
  if (sections && sections.length) {
    const topics = [article.section, ...article.tags].filter((t): t is string => !!t).map(foldTopic);
    if (!topics.some((t) => sections.includes(t)))
      return { pass: false, reason: `section/tags not in its sections (${(dest.options.sections ?? []).join(', ')})` };
  }
  return filterFor(dest)(article);
}

/** One line per destination: whether the article goes there and why (for `manchete preview --explain`). */
export interface RoutingExplanation extends RouteDecision {
  destination: string;
}

/** Why an article does or does not go to each of these destinations. Dead destinations say so. */
export function explainRouting(article: Article, destinations: readonly (Pick<Destination, 'id' | 'options'> & { status?: string })[]): RoutingExplanation[] {
  return destinations.map((d) =>
    d.status === 'dead' ? { destination: d.id, pass: false, reason: 'destination is dead' } : { destination: d.id, ...routeDecision(article, d) },
  );
}
