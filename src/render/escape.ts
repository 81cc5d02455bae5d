/**
 * Escaping of untrusted text (titles, leads, sections, anything that came from a feed) for each output
 * format. Templates are trusted markup; every value interpolated into them goes through one of these,
 * so that no feed can break a message or restyle half of it.
 *
 * All three start with the same clean-up (`plainText`): null/undefined become '', CR LF becomes LF,
 * control characters other than tab and newline are dropped, lone UTF-16 surrogates become U+FFFD
 * (Telegram needs valid UTF-8), and unterminated bidi embeddings/overrides/isolates are closed at the
 * end of the value so a right-to-left override in a title cannot flip the rest of the message.
 */

const CLEAN_TEST = /[\u0000-\u0008\u000B-\u001F\u007F]|[\uD800-\uDFFF]/;
const CLEAN_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const BIDI_TEST = /[\u202A-\u202E\u2066-\u2069]/;
/** Anything `plainText` may change (CR included): one scan instead of three for the usual clean value. */
const ANY_TEST = /[\u0000-\u0008\u000B-\u001F\u007F\uD800-\uDFFF\u202A-\u202E\u2066-\u2069]/;

function closeBidi(s: string): string {
  let embeds = 0;
  let isolates = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x202a || c === 0x202b || c === 0x202d || c === 0x202e) embeds++;
    else if (c === 0x202c) embeds = Math.max(0, embeds - 1);
    else if (c >= 0x2066 && c <= 0x2068) isolates++;
    else if (c === 0x2069) isolates = Math.max(0, isolates - 1);
  }
  return s + '\u202C'.repeat(embeds) + '\u2069'.repeat(isolates);
}

/**
 * Any value as safe plain text (see the module comment for what is cleaned). Used as the escape
 * function for plain-text output and as the first step of the other two.
 */
export function plainText(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : String(value);
  if (!ANY_TEST.test(s)) return s;
  if (s.includes('\r')) s = s.replace(/\r\n?/g, '\n');
  if (CLEAN_TEST.test(s)) s = s.replace(CLEAN_RE, (m) => (m.length === 1 && m.charCodeAt(0) >= 0xd800 ? '\uFFFD' : ''));
  if (BIDI_TEST.test(s)) s = closeBidi(s);
  return s;
}

const HTML_TEST = /[&<>"]/;
const HTML_RE = /[&<>"]/g;
const HTML_MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * Text for Telegram HTML (text content and double-quoted attribute values): `&`, `<`, `>` and `"`
 * become entities, which is all Telegram's parser needs. Single quotes are left alone, so write
 * attributes in templates with double quotes.
 */
export function escapeHtml(value: unknown): string {
  const s = plainText(value);
  return HTML_TEST.test(s) ? s.replace(HTML_RE, (c) => HTML_MAP[c]!) : s;
}

/**
 * WhatsApp has no escape character for its markup, so the markup characters in untrusted text are
 * replaced by look-alikes that WhatsApp never treats as markup:
 * `*` → `∗` (U+2217), `_` → `ˍ` (U+02CD), `~` → `∼` (U+223C), `` ` `` → `ˋ` (U+02CB), and a `>`
 * that would start a quote line → `›` (U+203A).
 * Look-alikes were chosen over zero-width characters because they cannot pair up with anything,
 * whatever WhatsApp's rules for word boundaries are, and they survive copy and paste visibly.
 * Inside URLs (`http://…`, `https://…`), `_` and `~` are kept so links keep working (both are common
 * in paths); a URL's trailing punctuation is not part of it, as with any linkifier. `*` and `` ` ``
 * are replaced even in URLs: they are almost never in real links, and they are the characters that
 * could bold or monospace the rest of the message.
 */
const WA_TEST = /[*_~`>]/;
const WA_RE = /[*_~`]|(^|\n)([ \t]*)>/g;
const WA_URL_RE = /[*`]/g;
const WA_MAP: Record<string, string> = { '*': '\u2217', _: '\u02CD', '~': '\u223C', '`': '\u02CB' };
const URL_RE = /https?:\/\/[^\s]*[^\s_~*`.,;:!?'")\]}>]/gi;

function neutraliseWhatsApp(s: string): string {
  return s.replace(WA_RE, (m: string, lineStart: string | undefined, indent: string | undefined) =>
    indent !== undefined ? `${lineStart ?? ''}${indent}\u203A` : WA_MAP[m]!,
  );
}

/** Text for WhatsApp markup: cleaned (see `plainText`) and with markup characters neutralised. */
export function escapeWhatsApp(value: unknown): string {
  const s = plainText(value);
  if (!WA_TEST.test(s)) return s;
  if (!s.includes('://')) return neutraliseWhatsApp(s);
  let out = '';
  let last = 0;
  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(s); m; m = URL_RE.exec(s)) {
    out += neutraliseWhatsApp(s.slice(last, m.index)) + m[0].replace(WA_URL_RE, (c) => WA_MAP[c]!);
    last = URL_RE.lastIndex;
  }
  return out + neutraliseWhatsApp(s.slice(last));
}
