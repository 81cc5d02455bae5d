/**
 * Small, pure text helpers the Telegram adapter needs at its edge: escaping command replies for
 * parse_mode HTML, and turning (possibly broken) Telegram HTML into plain text for the one-time resend
 * after Telegram refused the markup. The renderer owns real HTML production; these only keep the
 * adapter safe when something upstream went wrong.
 */

/** Telegram's limits, in UTF-16 code units after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096;
export const TELEGRAM_CAPTION_LIMIT = 1024;

/** Escapes plain text for parse_mode HTML: `&`, `<`, `>` and `"`. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos|nbsp);/g, (whole, body: string) => {
    if (body === 'lt') return '<';
    if (body === 'gt') return '>';
    if (body === 'amp') return '&';
    if (body === 'quot') return '"';
    if (body === 'apos') return "'";
    if (body === 'nbsp') return '\u00a0';
    const code = body.startsWith('#x') ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/**
 * Plain text from Telegram HTML, tolerant of broken markup (that is when it is used): links become
 * `text (url)` unless the text already shows the URL, tags are dropped, the usual entities decoded,
 * anything unparseable kept as it is. The result needs no escaping because it is sent without parse_mode.
 */
export function telegramHtmlToPlain(html: string): string {
  const withLinks = html.replace(
    /<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]*?)<\/a\s*>/gi,
    (_m, dq: string | undefined, sq: string | undefined, bare: string | undefined, inner: string) => {
      const url = decodeEntities(dq ?? sq ?? bare ?? '');
      const text = decodeEntities(inner.replace(/<\/?[a-zA-Z][^<>]*>/g, ''));
      if (!url || text.includes(url)) return text;
      return text.trim() ? `${text} (${url})` : url;
    },
  );
  const noTags = withLinks.replace(/<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>/g, '');
  return decodeEntities(noTags).replace(/\n{3,}/g, '\n\n').trim();
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
