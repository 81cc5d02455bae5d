/**
 * Small, pure text helpers the Telegram adapter needs at its edge: escaping and splitting command
 * replies (plain text from the router) for parse_mode HTML, and cutting fallback text to Telegram's
 * limits. The renderer owns real HTML production (and `htmlToPlain`, used for the plain-text resend).
 */

/** Telegram's limits, in UTF-16 code units after entity parsing (defined once, by the renderer). */
export { TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT } from '../../render/fit.js';
import { TELEGRAM_TEXT_LIMIT } from '../../render/fit.js';

/** Escapes plain text for parse_mode HTML: `&`, `<`, `>` and `"`. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/** Cuts `text` to at most `max` UTF-16 code units without splitting a surrogate pair, adding `…` when cut. */
export function truncateUtf16(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Splits plain text into pieces of at most `max` UTF-16 code units, preferring line breaks, then spaces.
 * Used for command replies, which are plain text of unknown length.
 */
export function splitPlain(text: string, max: number = TELEGRAM_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) {
      cut = max;
      const c = rest.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut -= 1;
    }
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^[\n ]+/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}
