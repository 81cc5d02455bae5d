/**
 * Sentences and chat-sized summaries. `summarize` cuts a text at a sentence boundary within a length,
 * else at a word boundary with "…", never inside a word or a URL.
 *
 * A sentence ends at `.`, `!`, `?` or `…` (possibly followed by closing quotes or brackets) when
 * whitespace follows and the next word starts like a sentence (capital letter, digit, opening quote or
 * bracket, dash), or at the end of a paragraph. Not boundaries: decimals (`3.5`), dots inside URLs
 * and domains (no whitespace follows), titles and common abbreviations (`Sr.`, `Dra.`, `Prof.`, `Mr.`,
 * `Gen.`, `Av.`, `nº.`, `Jan.`…), single-letter initials (`J. K. Rowling`, `U.S.`). An acronym such as
 * `EUA.` followed by a capital is a boundary: in news copy it almost always ends the sentence.
 */
import { collapseWhitespace } from './text.js';

/** Lowercased words (without the dot) after which a period does not end a sentence. */
const ABBREVIATIONS = new Set([
  // Portuguese titles and abbreviations
  'sr', 'sra', 'srs', 'sras', 'srta', 'dr', 'dra', 'drs', 'dras', 'prof', 'profa', 'profs', 'exmo', 'exma',
  'revmo', 'pe', 'fr', 'eng', 'arq', 'adv', 'gen', 'cel', 'sgt', 'maj', 'brig', 'alm', 'cmte', 'gov',
  'dep', 'sen', 'pres', 'vol', 'pag', 'pág', 'págs', 'pp', 'cf', 'obs', 'av', 'rod', 'nº', 'núm', 'num',
  'tel', 'aprox', 'séc', 'coord', 'sto', 'sta', 'jr', 'fig', 'dept', 'depto',
  // English
  'mr', 'mrs', 'ms', 'mx', 'st', 'mt', 'ft', 'rep', 'reps', 'sens', 'lt', 'col', 'capt', 'cmdr', 'rev',
  'hon', 'vs', 'approx',
  // Month abbreviations followed by a day or year ("Sept. 24", "fev. 2018"); those that are also common
  // words (mar, set, out, dez, ago) are left out.
  'jan', 'fev', 'feb', 'abr', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
]);

/**
 * Candidate sentence ends: terminal punctuation, optional closing quotes/brackets, then whitespace. The
 * lookbehind starts a match only where a run of punctuation starts: a long run not followed by a space
 * ("......") is then tried once, not once per character (quadratic).
 */
const END_RE = /(?<![.!?…])[.!?…]+["'”’»)\]]*(?=\s)/gu;
/** What may start a sentence. */
const SENTENCE_START_RE = /^\s+(?:["'“‘«(\[¿¡—–-]|\p{Lu}|\p{Lt}|\p{N}|\p{Extended_Pictographic})/u;
/** A letter, a digit or º: what the word before a period is made of. */
const WORD_CHAR_RE = /^[\p{L}\p{N}º]$/u;
/** How far back from a period the word before it is looked for. */
const WORD_WINDOW = 24;

/**
 * The run of letters, digits and º that ends just before the period at `dot`, looked for in the
 * `WORD_WINDOW` characters before it; null when there is none. Walks back from the period: a regex
 * would try every start position of the window, which is slow on two-byte strings (any feed text with
 * a curly quote or an emoji in it) because of the Unicode classes.
 */
function wordBefore(text: string, dot: number): string | null {
  const min = Math.max(0, dot - WORD_WINDOW);
  let i = dot;
  while (i > min) {
    const c = text.charCodeAt(i - 1);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) {
      i--;
      continue;
    }
    if (c < 0x80) break;
    // A surrogate pair counts as one character; a half of one cut off by the window is no letter.
    if (c >= 0xdc00 && c <= 0xdfff && i - 2 >= min) {
      const high = text.charCodeAt(i - 2);
      if (high >= 0xd800 && high <= 0xdbff) {
        if (!WORD_CHAR_RE.test(text.slice(i - 2, i))) break;
        i -= 2;
        continue;
      }
    }
    if (!WORD_CHAR_RE.test(text[i - 1]!)) break;
    i--;
  }
  return i < dot ? text.slice(i, dot) : null;
}

function isBoundary(text: string, start: number, end: number): boolean {
  if (!SENTENCE_START_RE.test(text.slice(end, end + 4))) return false;
  // Only a single period can be an abbreviation's or an initial's: "!", "?", "…" and ".." always end.
  if (text.charCodeAt(start) !== 0x2e || (end - start > 1 && text.charCodeAt(start + 1) === 0x2e)) return true;
  const word = wordBefore(text, start);
  if (word === null) return true;
  if (ABBREVIATIONS.has(word.toLowerCase())) return false;
  // Single-letter initials ("J. K. Rowling", "U.S."): a lone letter after a space, a dot or nothing.
  if (word.length === 1 && /\p{L}/u.test(word)) {
    const prev = text[start - 2];
    if (prev === undefined || prev === ' ' || prev === '.') return false;
  }
  return true;
}

/**
 * Offsets just past each sentence end in `text` (a single paragraph), in order; the end of the text is
 * not included.
 */
export function sentenceEnds(text: string): number[] {
  const ends: number[] = [];
  END_RE.lastIndex = 0;
  for (let m = END_RE.exec(text); m; m = END_RE.exec(text)) {
    const end = m.index + m[0].length;
    if (isBoundary(text, m.index, end)) ends.push(end);
  }
  return ends;
}

/**
 * Splits a text into sentences (each trimmed, none empty). Paragraph breaks (newlines) always end a
 * sentence; inside a paragraph the rules in the module comment apply.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n+/)) {
    const p = collapseWhitespace(para);
    if (!p) continue;
    let from = 0;
    for (const end of sentenceEnds(p)) {
      const s = p.slice(from, end).trim();
      if (s) out.push(s);
      from = end;
    }
    const rest = p.slice(from).trim();
    if (rest) out.push(rest);
  }
  return out;
}

/** Below this share of `maxChars`, a sentence cut loses too much: cut at a word instead. */
const MIN_SENTENCE_SHARE = 0.25;
/** Trailing junk; the lookbehind tries each run once (a run in mid-text would otherwise be retried per character). */
const TRAILING_JUNK_RE = /(?<![\s,;:–—\-(\[{"'“‘«/])[\s,;:–—\-(\[{"'“‘«/]+$/u;
const URL_START_RE = /https?:\/\/|www\./i;

/** Whether the last word of `text` is (or holds) a URL: what `/(?:https?:\/\/|www\.)\S*$/i` tells, read once. */
function endsInUrl(text: string): boolean {
  let i = text.length;
  while (i > 0 && !/\s/.test(text[i - 1]!)) i--;
  return URL_START_RE.test(text.slice(i));
}

/**
 * A chat-sized summary of `text`: whitespace normalised (paragraphs joined by a space), and when longer
 * than `maxChars` (UTF-16 code units, as Telegram counts), cut after the last sentence that fits, or,
 * if that would keep less than a quarter of `maxChars`, after the last whole word with "…" appended.
 * Never cuts inside a word or a URL, except when the very first word is itself longer than `maxChars`
 * (then it is cut, without splitting a surrogate pair). The result is never longer than `maxChars`.
 */
export function summarize(text: string, maxChars = 300): string {
  const limit = Math.max(1, Math.floor(maxChars));
  // Only the paragraphs that can reach the limit matter: a long body is not normalised in full.
  const paragraphs: string[] = [];
  let length = -1;
  for (const raw of text.split('\n')) {
    if (length > limit) break;
    const p = collapseWhitespace(raw);
    if (!p) continue;
    paragraphs.push(p);
    length += p.length + 1;
  }
  const joined = paragraphs.join(' ');
  if (joined.length <= limit) return joined;

  // Sentence ends: inside each paragraph, and each paragraph's end.
  let best = 0;
  let offset = 0;
  for (const p of paragraphs) {
    if (offset > limit) break;
    // Ends past the limit do not matter; a few characters more let the last boundary see what follows.
    for (const end of sentenceEnds(p.length > limit - offset + 8 ? p.slice(0, limit - offset + 8) : p)) {
      if (offset + end <= limit) best = offset + end;
      else break;
    }
    if (offset + p.length <= limit) best = offset + p.length;
    offset += p.length + 1;
  }
  if (best > 0 && best >= limit * MIN_SENTENCE_SHARE) return joined.slice(0, best).trim();

  // Word cut, leaving room for the ellipsis.
  const room = limit - 1;
  const space = joined.lastIndexOf(' ', room);
  if (space > 0) {
    let cut = joined.slice(0, space).replace(TRAILING_JUNK_RE, '');
    if (cut.length > 0) {
      // "…" glued to a URL would read as part of it.
      if (endsInUrl(cut)) cut = cut.length + 2 <= limit ? `${cut} ` : cut.slice(0, cut.lastIndexOf(' ')).trimEnd();
      if (cut.length > 0) return `${cut}…`;
    }
  }
  let hard = joined.slice(0, room);
  const last = hard.charCodeAt(hard.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) hard = hard.slice(0, -1);
  return `${hard}…`;
}
