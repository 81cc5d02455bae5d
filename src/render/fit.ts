import { measureTelegramHtml, tokenizeTelegramHtml } from './telegram-html.js';
import type { OutboundMessage } from './types.js';

/** The preview card data a text message may carry (see OutboundMessage.preview). */
export type LinkPreview = NonNullable<OutboundMessage['preview']>;

/**
 * Fitting rendered text to the platforms' limits: a photo when the caption fits, otherwise text;
 * text longer than the limit split into several messages on paragraph, then line, then sentence,
 * then word boundaries, and only inside a word (at a grapheme boundary, never inside an HTML entity)
 * when a single word is longer than a whole message. Telegram HTML stays balanced across parts: tags
 * open at a split are closed at the end of one part and reopened at the start of the next.
 *
 * Lengths are UTF-16 code units of the text as the reader sees it (Telegram's own measure).
 */

/** Telegram: text of a message, after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096;
/** Telegram: caption of a photo, after entity parsing. */
export const TELEGRAM_CAPTION_LIMIT = 1024;
/**
 * WhatsApp accepts much longer texts (about 65,000 characters), but a channel post longer than a
 * Telegram message reads badly and long messages are the ones WhatsApp truncates behind "Read more";
 * Manchete keeps both platforms at 4096 UTF-16 code units.
 */
export const WHATSAPP_TEXT_LIMIT = 4096;
/** WhatsApp: image caption. The apps cut longer captions; 1024 keeps the whole caption visible. */
export const WHATSAPP_CAPTION_LIMIT = 1024;

/** A part should be at least this full before a weaker boundary is preferred to a stronger one. */
const MIN_FILL = 0.5;

/** What the fitter needs to know besides the text. */
export interface FitOptions {
  /** The article image, if any. */
  imageUrl?: string | null;
  /** Send the image with the text as caption when the caption fits. */
  photo?: boolean;
  /** Link preview for the first text message (Telegram shows this URL's preview). */
  previewUrl?: string | null;
  /** Preview card data for platforms that build their own (WhatsApp), on the first text message. */
  preview?: LinkPreview | null;
}

const ATOM = 0;
const OPEN = 1;
const CLOSE = 2;

/** A unit the splitter never cuts: one code point, or one HTML entity. */
interface Atom {
  k: typeof ATOM;
  raw: string;
  /** UTF-16 length of the decoded text. */
  len: number;
  /** The decoded text (one code point). */
  ch: string;
}
interface OpenTag {
  k: typeof OPEN;
  name: string;
  raw: string;
}
interface CloseTag {
  k: typeof CLOSE;
  name: string;
  raw: string;
}
type Item = Atom | OpenTag | CloseTag;

function pushCodePoints(items: Item[], text: string): void {
  for (const ch of text) items.push({ k: ATOM, raw: ch, len: ch.length, ch });
}

function telegramItems(html: string): Item[] {
  const items: Item[] = [];
  for (const tok of tokenizeTelegramHtml(html)) {
    if (tok.type === 'open') items.push({ k: OPEN, name: tok.name, raw: tok.raw });
    else if (tok.type === 'close') items.push({ k: CLOSE, name: tok.name, raw: tok.raw });
    else if (tok.raw.charCodeAt(0) === 38 /* & */) items.push({ k: ATOM, raw: tok.raw, len: tok.text.length, ch: tok.text });
    else pushCodePoints(items, tok.raw);
  }
  return items;
}

const isSpace = (ch: string) => ch === ' ' || ch === '\n' || ch === '\t';
const SENTENCE_END = new Set(['.', '!', '?', '…']);
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']', '»']);
const MARK_RE = /^\p{M}$/u;

/** True when a cut between `prev` and `ch` would split a grapheme (combining mark, ZWJ sequence, modifier, flag). */
function joins(prev: string, ch: string, riRun: number): boolean {
  const cp = ch.codePointAt(0)!;
  if (cp === 0x200d || prev === '\u200d') return true;
  if ((cp >= 0x1f3fb && cp <= 0x1f3ff) || (cp >= 0xe0020 && cp <= 0xe007f)) return true;
  if (cp >= 0x1f1e6 && cp <= 0x1f1ff && riRun % 2 === 1) return true;
  return MARK_RE.test(ch);
}

const isRegionalIndicator = (ch: string) => {
  const cp = ch.codePointAt(0)!;
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
};

/** Boundary strength: 3 paragraph, 2 line, 1 sentence, 0 word. */
function boundaryPriority(items: Item[], runStart: number, prevText: string | null, prevPrevTexts: string[]): number {
  let newlines = 0;
  for (let j = runStart; j < items.length; j++) {
    const it = items[j]!;
    if (it.k !== ATOM || !isSpace(it.ch)) break;
    if (it.ch === '\n') newlines++;
  }
  if (newlines >= 2) return 3;
  if (newlines === 1) return 2;
  if (prevText !== null) {
    if (SENTENCE_END.has(prevText)) return 1;
    if (CLOSERS.has(prevText) && prevPrevTexts.some((c) => SENTENCE_END.has(c))) return 1;
  }
  return 0;
}

/**
 * Splits items into parts of at most `limit` UTF-16 units of text each, keeping tags balanced.
 * Returns the raw markup of each part; parts never consist of whitespace only.
 */
function splitItems(items: Item[], limit: number): string[] {
  const parts: string[] = [];
  const stack: OpenTag[] = [];
  const n = items.length;
  let i = 0;
  while (i < n) {
    while (i < n && items[i]!.k === ATOM && isSpace((items[i] as Atom).ch)) i++;
    if (i >= n) break;

    // Scan forward until the text would overflow, remembering the furthest boundary of each strength.
    const bestIdx = [-1, -1, -1, -1];
    const bestLen = [0, 0, 0, 0];
    let len = 0;
    let seenText = false;
    let overflow = -1;
    let inEmoji = stack.some((t) => t.name === 'tg-emoji');
    let emojiOpen = -1;
    let prevText: string | null = null;
    const recent: string[] = [];
    let inSpaceRun = false;
    for (let j = i; j < n; j++) {
      const it = items[j]!;
      if (it.k === OPEN) {
        if (it.name === 'tg-emoji') {
          inEmoji = true;
          emojiOpen = j;
        }
        inSpaceRun = false;
        continue;
      }
      if (it.k === CLOSE) {
        if (it.name === 'tg-emoji') inEmoji = false;
        inSpaceRun = false;
        continue;
      }
      if (isSpace(it.ch)) {
        if (!inSpaceRun && seenText && !inEmoji) {
          const p = boundaryPriority(items, j, prevText, recent);
          bestIdx[p] = j;
          bestLen[p] = len;
        }
        inSpaceRun = true;
      } else {
        inSpaceRun = false;
      }
      if (len + it.len > limit) {
        overflow = j;
        break;
      }
      len += it.len;
      if (!isSpace(it.ch)) {
        seenText = true;
        prevText = it.ch;
        recent.push(it.ch);
        if (recent.length > 3) recent.shift();
      }
    }

    let cut: number;
    if (overflow < 0) {
      cut = n;
    } else {
      cut = -1;
      for (let p = 3; p >= 0; p--) {
        if (bestIdx[p]! >= 0 && bestLen[p]! >= limit * MIN_FILL) {
          cut = bestIdx[p]!;
          break;
        }
      }
      if (cut < 0) {
        let furthest = -1;
        for (let p = 0; p < 4; p++) if (bestIdx[p]! > furthest) furthest = bestIdx[p]!;
        cut = furthest;
      }
      if (cut < 0) cut = hardCut(items, i, overflow, inEmoji ? emojiOpen : -1);
    }
    // Do not end a part with tags that open on nothing.
    while (cut > i + 1 && cut < n && items[cut - 1]!.k === OPEN) cut--;

    let prefix = '';
    for (const t of stack) prefix += t.raw;
    let body = '';
    let hasText = false;
    for (let j = i; j < cut; j++) {
      const it = items[j]!;
      body += it.raw;
      if (it.k === OPEN) stack.push(it);
      else if (it.k === CLOSE) stack.pop();
      else if (!hasText && !isSpace(it.ch)) hasText = true;
    }
    // A part of whitespace only would be rejected as empty; its tags are balanced by the parts around it.
    if (hasText) {
      let suffix = '';
      if (cut < n) for (let s = stack.length - 1; s >= 0; s--) suffix += `</${stack[s]!.name}>`;
      parts.push(prefix + body.replace(/[ \t\n]+$/, '') + suffix);
    }
    i = cut;
  }
  return parts;
}

/** A cut inside a word: the last point that fits, moved back so that no grapheme or tg-emoji is split. */
function hardCut(items: Item[], start: number, overflow: number, emojiOpen: number): number {
  if (emojiOpen > start) return emojiOpen;
  let first = start;
  while (first < overflow && items[first]!.k !== ATOM) first++;
  for (let cut = overflow, steps = 0; cut > first + 1 && steps < 64; cut--, steps++) {
    const next = items[cut]!;
    const prev = items[cut - 1]!;
    if (next.k !== ATOM || prev.k !== ATOM) return cut;
    let riRun = 0;
    for (let j = cut - 1; j >= start; j--) {
      const it = items[j]!;
      if (it.k !== ATOM || !isRegionalIndicator(it.ch)) break;
      riRun++;
    }
    if (!joins(prev.ch, next.ch, isRegionalIndicator(next.ch) ? riRun : 0)) return cut;
  }
  return overflow;
}

/**
 * Splits valid Telegram HTML into parts whose text is at most `limit` UTF-16 units, each part valid
 * on its own. Text that already fits comes back as one part.
 */
export function splitTelegramHtml(html: string, limit: number = TELEGRAM_TEXT_LIMIT): string[] {
  if (limit < 2) throw new RangeError(`limit must be at least 2, got ${limit}`);
  const measured = measureTelegramHtml(html);
  if (measured.error !== null) throw new Error(`cannot split invalid Telegram HTML: ${measured.error}`);
  if (measured.length <= limit) return measured.length === 0 ? [] : [html];
  return splitItems(telegramItems(html), limit);
}

/** Splits plain or WhatsApp-marked-up text into parts of at most `limit` UTF-16 units. */
export function splitPlainText(text: string, limit: number = WHATSAPP_TEXT_LIMIT): string[] {
  if (limit < 2) throw new RangeError(`limit must be at least 2, got ${limit}`);
  if (text.length <= limit) return text.trim() === '' ? [] : [text];
  const items: Item[] = [];
  pushCodePoints(items, text);
  return splitItems(items, limit);
}

function textMessages(parts: string[], opts: FitOptions): OutboundMessage[] {
  return parts.map((text, index) => {
    const msg: OutboundMessage = { kind: 'text', text };
    if (index === 0) {
      if (opts.previewUrl) msg.previewUrl = opts.previewUrl;
      if (opts.preview) msg.preview = opts.preview;
    }
    return msg;
  });
}

/**
 * Telegram: a photo with `html` as caption when a photo is wanted and the caption fits in 1024;
 * otherwise text message(s) of at most 4096, the first carrying the link preview.
 * `html` must be valid Telegram HTML (the renderer has checked it). Empty text gives no message.
 */
export function fitTelegram(html: string, opts: FitOptions = {}, knownLength?: number): OutboundMessage[] {
  const length = knownLength ?? measureTelegramHtml(html).length;
  if (length === 0) return [];
  if (opts.photo && opts.imageUrl && length <= TELEGRAM_CAPTION_LIMIT) {
    return [{ kind: 'photo', text: html, imageUrl: opts.imageUrl }];
  }
  const parts = length <= TELEGRAM_TEXT_LIMIT ? [html] : splitItems(telegramItems(html), TELEGRAM_TEXT_LIMIT);
  return textMessages(parts, opts);
}

/**
 * WhatsApp: an image with `text` as caption when a photo is wanted and the caption fits in 1024;
 * otherwise text message(s) of at most 4096, the first carrying the preview. Empty text gives no message.
 */
export function fitWhatsApp(text: string, opts: FitOptions = {}): OutboundMessage[] {
  if (text.trim() === '') return [];
  if (opts.photo && opts.imageUrl && text.length <= WHATSAPP_CAPTION_LIMIT) {
    return [{ kind: 'image', text, imageUrl: opts.imageUrl }];
  }
  return textMessages(splitPlainText(text, WHATSAPP_TEXT_LIMIT), opts);
}
