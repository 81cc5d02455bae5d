/**
 * Telegram's HTML subset (parse_mode HTML), as Manchete checks it: a strict parser that says whether
 * Telegram would accept a message, how long the message is once Telegram has parsed it, and what it
 * reads like as plain text.
 *
 * This module is shared with the fake Bot API server in tests, so the renderer and the fake agree on
 * exactly one set of rules. Keep its public surface small: `validateTelegramHtml`,
 * `telegramTextLength`, `htmlToPlain` (plus `tokenizeTelegramHtml` for the splitter in `fit.ts`).
 *
 * The rules are at least as strict as Telegram's own parser (so whatever passes here, Telegram takes):
 * - tags: b, strong, i, em, u, ins, s, strike, del, tg-spoiler, span class="tg-spoiler", a href,
 *   code, pre (optionally wrapping `code class="language-x"`), blockquote (optionally `expandable`),
 *   tg-emoji emoji-id. Tag and attribute names are case-insensitive, as in Telegram.
 * - attribute values quoted with `"` or `'`; no unknown attributes; no self-closing tags, comments
 *   or doctype.
 * - entities: `&lt;` `&gt;` `&amp;` `&quot;` and numeric (`&#233;`, `&#xE9;`), each ending in `;`.
 *   A bare `&`, `<` or `>` is an error (Telegram tolerates some of them; we do not rely on it).
 * - nesting: every tag closed in order; nothing inside code, pre holds only text or one code;
 *   a, code, pre and tg-emoji never contain one another; blockquote never contains blockquote.
 * - the text is well-formed UTF-16 (no lone surrogates: Telegram needs valid UTF-8).
 */

/** Outcome of `validateTelegramHtml`. `error` says what is wrong and where (a UTF-16 offset). */
export type TelegramHtmlResult = { ok: true } | { ok: false; error: string };

/** One lexical piece of Telegram HTML. Entities are tokens of their own (`raw` `&amp;`, `text` `&`). */
export type TelegramHtmlToken =
  | { type: 'text'; raw: string; text: string; offset: number }
  | { type: 'open'; name: string; raw: string; attrs: Record<string, string>; offset: number }
  | { type: 'close'; name: string; raw: string; offset: number };

/** Thrown by `tokenizeTelegramHtml` when the input is not valid Telegram HTML. */
export class TelegramHtmlError extends Error {
  constructor(
    /** UTF-16 offset in the input where the problem starts. */
    readonly offset: number,
    /** What is wrong, without the position. */
    readonly reason: string,
  ) {
    super(`${reason} (at character ${offset})`);
    this.name = 'TelegramHtmlError';
  }
}

const FORMAT_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'tg-spoiler', 'span']);
/** Entities that "can't contain each other" in Telegram's terms. */
const EXCLUSIVE_TAGS = new Set(['a', 'code', 'pre', 'tg-emoji']);
const ALLOWED_TAGS = new Set([...FORMAT_TAGS, ...EXCLUSIVE_TAGS, 'blockquote']);

const OPEN_RE = /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=<>"'/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>=`]+))?)*)\s*(\/?)>/y;
const CLOSE_RE = /<\/([a-zA-Z][a-zA-Z0-9-]*)\s*>/y;
const ATTR_RE = /\s+([^\s=<>"'/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>=`]+)))?/y;
const ENTITY_RE = /&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]{0,31}));/y;
const SPECIAL_RE = /[<>&]/g;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Decodes the entity starting at `at` (which holds `&`), or throws. Returns the text and the entity's end. */
function readEntity(html: string, at: number): { text: string; end: number } {
  ENTITY_RE.lastIndex = at;
  const m = ENTITY_RE.exec(html);
  if (!m) throw new TelegramHtmlError(at, 'a bare "&" must be written &amp;');
  if (m[3] !== undefined) {
    const named = NAMED[m[3]];
    if (named === undefined) {
      throw new TelegramHtmlError(at, `unsupported entity &${m[3]}; (Telegram knows only &lt; &gt; &amp; &quot; and numeric ones)`);
    }
    return { text: named, end: ENTITY_RE.lastIndex };
  }
  const code = m[1] !== undefined ? Number.parseInt(m[1], 10) : Number.parseInt(m[2]!, 16);
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    throw new TelegramHtmlError(at, `entity ${m[0]} is not a valid Unicode character`);
  }
  return { text: String.fromCodePoint(code), end: ENTITY_RE.lastIndex };
}

/** Decodes entities in an attribute value, with the same rules as text. */
function decodeAttr(value: string, offset: number): string {
  if (value.includes('<') || value.includes('>')) {
    throw new TelegramHtmlError(offset, 'a "<" or ">" inside an attribute must be written &lt; or &gt;');
  }
  if (!value.includes('&')) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const amp = value.indexOf('&', i);
    if (amp < 0) {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, amp);
    try {
      const e = readEntity(value, amp);
      out += e.text;
      i = e.end;
    } catch (err) {
      if (err instanceof TelegramHtmlError) throw new TelegramHtmlError(offset, `${err.reason} (inside an attribute)`);
      throw err;
    }
  }
  return out;
}

function parseAttrs(src: string, offset: number, tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  ATTR_RE.lastIndex = 0;
  while (ATTR_RE.lastIndex < src.length) {
    const m = ATTR_RE.exec(src);
    if (!m) break;
    const name = m[1]!.toLowerCase();
    if (m[4] !== undefined) {
      throw new TelegramHtmlError(offset, `attribute ${name} of <${tag}> must be quoted`);
    }
    if (Object.hasOwn(attrs, name)) throw new TelegramHtmlError(offset, `attribute ${name} appears twice in <${tag}>`);
    const raw = m[2] ?? m[3];
    attrs[name] = raw === undefined ? '' : decodeAttr(raw, offset);
  }
  return attrs;
}

/**
 * Splits Telegram HTML into tokens, checking the lexical rules (tag syntax, entities, bare `<>&`).
 * It does not check which tags are allowed or how they nest: `validateTelegramHtml` does.
 * Throws TelegramHtmlError.
 */
export function tokenizeTelegramHtml(html: string): TelegramHtmlToken[] {
  const tokens: TelegramHtmlToken[] = [];
  let i = 0;
  const n = html.length;
  while (i < n) {
    SPECIAL_RE.lastIndex = i;
    const sm = SPECIAL_RE.exec(html);
    const next = sm ? sm.index : n;
    if (next > i) {
      const raw = html.slice(i, next);
      tokens.push({ type: 'text', raw, text: raw, offset: i });
      i = next;
      continue;
    }
    const c = html[i];
    if (c === '&') {
      const e = readEntity(html, i);
      tokens.push({ type: 'text', raw: html.slice(i, e.end), text: e.text, offset: i });
      i = e.end;
    } else if (c === '>') {
      throw new TelegramHtmlError(i, 'a bare ">" must be written &gt;');
    } else if (html[i + 1] === '/') {
      CLOSE_RE.lastIndex = i;
      const m = CLOSE_RE.exec(html);
      if (!m) throw new TelegramHtmlError(i, 'malformed end tag; a bare "<" must be written &lt;');
      tokens.push({ type: 'close', name: m[1]!.toLowerCase(), raw: m[0], offset: i });
      i = CLOSE_RE.lastIndex;
    } else {
      OPEN_RE.lastIndex = i;
      const m = OPEN_RE.exec(html);
      if (!m) {
        if (/^<[!?]/.test(html.slice(i, i + 2))) {
          throw new TelegramHtmlError(i, 'comments, doctypes and processing instructions are not allowed');
        }
        throw new TelegramHtmlError(i, 'a bare "<" must be written &lt;');
      }
      const name = m[1]!.toLowerCase();
      if (m[3]) throw new TelegramHtmlError(i, `self-closing <${name}/> is not allowed`);
      tokens.push({ type: 'open', name, raw: m[0], attrs: parseAttrs(m[2] ?? '', i, name), offset: i });
      i = OPEN_RE.lastIndex;
    }
  }
  return tokens;
}

/** Checks one opening tag's attributes and its place in the stack of open tags; returns an error or null. */
function checkOpen(tok: Extract<TelegramHtmlToken, { type: 'open' }>, stack: string[]): string | null {
  const { name, attrs } = tok;
  if (!ALLOWED_TAGS.has(name)) return `unsupported tag <${name}>`;
  const keys = Object.keys(attrs);
  const only = (...allowed: string[]): string | null => {
    const bad = keys.find((k) => !allowed.includes(k));
    return bad === undefined ? null : `attribute ${bad} is not allowed on <${name}>`;
  };
  let attrError: string | null;
  switch (name) {
    case 'a':
      attrError = only('href') ?? (attrs.href?.trim() ? null : '<a> needs a non-empty href');
      break;
    case 'span':
      attrError = only('class') ?? (attrs.class === 'tg-spoiler' ? null : '<span> needs class="tg-spoiler"');
      break;
    case 'code':
      attrError = only('class');
      if (!attrError && attrs.class !== undefined) {
        if (stack[stack.length - 1] !== 'pre') attrError = 'a language class is allowed only on <code> directly inside <pre>';
        else if (!/^language-[^\s]+$/.test(attrs.class)) attrError = '<code> class must be language-<name>';
      }
      break;
    case 'blockquote':
      attrError = only('expandable') ?? (attrs.expandable ? 'expandable takes no value' : null);
      break;
    case 'tg-emoji':
      attrError = only('emoji-id') ?? (/^\d+$/.test(attrs['emoji-id'] ?? '') ? null : '<tg-emoji> needs a numeric emoji-id');
      break;
    default:
      attrError = only();
  }
  if (attrError) return attrError;

  const top = stack[stack.length - 1];
  if (stack.includes('code')) return `<${name}> inside <code>: code holds text only`;
  if (stack.includes('tg-emoji')) return `<${name}> inside <tg-emoji>: tg-emoji holds text only`;
  if (stack.includes('pre') && !(name === 'code' && top === 'pre')) return `<${name}> inside <pre>: pre holds text or one <code>`;
  if (name === 'blockquote') {
    const outer = stack.find((s) => s === 'blockquote' || EXCLUSIVE_TAGS.has(s));
    if (outer) return `<blockquote> cannot be inside <${outer}>`;
  }
  if (EXCLUSIVE_TAGS.has(name) && !(name === 'code' && top === 'pre')) {
    const outer = stack.find((s) => EXCLUSIVE_TAGS.has(s));
    if (outer) return `<${name}> cannot be inside <${outer}>`;
    if ((name === 'code' || name === 'pre') && stack.some((s) => FORMAT_TAGS.has(s))) {
      return `<${name}> cannot be inside formatting tags`;
    }
  }
  return null;
}

interface Analysis {
  error: string | null;
  length: number;
}

/** Formatting tags without attributes that nest freely: the tags of the common-case measure. */
const PLAIN_FORMAT_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del']);

/**
 * The length of `html` when it is made of text, `&amp;` `&lt;` `&gt;` `&quot;`, the tags in
 * PLAIN_FORMAT_TAGS written plainly (`<b>`, `</b>`) and links written `<a href="…">` (no `&`, `<` or
 * `"` in the address), properly nested; -1 for anything else, which the full pass then reads. This is
 * what rendered articles look like, and it needs no tokens: the full pass allocates one per entity and tag.
 */
function measureCommon(html: string): number {
  const stack: string[] = [];
  let inLink = false;
  let length = 0;
  let i = 0;
  const n = html.length;
  while (i < n) {
    SPECIAL_RE.lastIndex = i;
    const next = SPECIAL_RE.exec(html)?.index ?? n;
    length += next - i;
    if (next >= n) break;
    i = next;
    const c = html.charCodeAt(i);
    if (c === 0x26 /* & */) {
      if (html.startsWith('&amp;', i)) i += 5;
      else if (html.startsWith('&lt;', i) || html.startsWith('&gt;', i)) i += 4;
      else if (html.startsWith('&quot;', i)) i += 6;
      else return -1;
      length += 1;
      continue;
    }
    if (c === 0x3e /* > */) return -1;
    const end = html.indexOf('>', i + 1);
    if (end < 0) return -1;
    if (html.charCodeAt(i + 1) === 0x2f /* / */) {
      if (stack.length === 0 || stack[stack.length - 1] !== html.slice(i + 2, end)) return -1;
      if (stack.pop() === 'a') inLink = false;
    } else {
      const tag = html.slice(i + 1, end);
      if (PLAIN_FORMAT_TAGS.has(tag)) {
        stack.push(tag);
      } else if (!inLink && tag.startsWith('a href="') && tag.endsWith('"') && tag.length > 9) {
        const href = tag.slice(8, -1);
        if (href.includes('"') || !onlyAmpEntities(href) || href.includes('<') || href.trim() === '') return -1;
        stack.push('a');
        inLink = true;
      } else {
        return -1;
      }
    }
    i = end + 1;
  }
  if (stack.length > 0 || hasLoneSurrogate(html)) return -1;
  return length;
}

/**
 * Whether every `&` in `s` starts `&amp;`: an attribute value the full pass decodes without error, to
 * `s` with each `&amp;` an `&` (links with a query are written so).
 */
export function onlyAmpEntities(s: string): boolean {
  for (let amp = s.indexOf('&'); amp >= 0; amp = s.indexOf('&', amp + 1)) if (!s.startsWith('&amp;', amp)) return false;
  return true;
}

/** LONE_SURROGATE_RE's test, read once: a regex with a lookbehind costs more on two-byte text (an emoji). */
function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true; // a low surrogate with no high one before it (pairs are skipped whole)
    const next = s.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

/** One pass: lexical and structural checks plus the UTF-16 length of the parsed text. */
function analyse(html: string): Analysis {
  const common = measureCommon(html);
  if (common >= 0) return { error: null, length: common };
  let tokens: TelegramHtmlToken[];
  try {
    tokens = tokenizeTelegramHtml(html);
  } catch (err) {
    if (err instanceof TelegramHtmlError) return { error: err.message, length: -1 };
    throw err;
  }
  const stack: string[] = [];
  const opened: number[] = [];
  let length = 0;
  for (const tok of tokens) {
    if (tok.type === 'text') {
      length += tok.text.length;
    } else if (tok.type === 'open') {
      const e = checkOpen(tok, stack);
      if (e) return { error: `${e} (at character ${tok.offset})`, length: -1 };
      stack.push(tok.name);
      opened.push(tok.offset);
    } else {
      const top = stack.pop();
      const at = opened.pop();
      if (top === undefined) return { error: `</${tok.name}> closes nothing (at character ${tok.offset})`, length: -1 };
      if (top !== tok.name) {
        return { error: `</${tok.name}> closes <${top}> opened at character ${at} (at character ${tok.offset})`, length: -1 };
      }
    }
  }
  if (stack.length > 0) {
    return { error: `<${stack[stack.length - 1]}> opened at character ${opened[opened.length - 1]} is never closed`, length: -1 };
  }
  if (LONE_SURROGATE_RE.test(html)) {
    const m = LONE_SURROGATE_RE.exec(html)!;
    return { error: `a lone UTF-16 surrogate is not valid text (at character ${m.index})`, length: -1 };
  }
  return { error: null, length };
}

/**
 * Says whether Telegram would accept `html` with parse_mode HTML. Never throws.
 * The error names the problem and its UTF-16 offset, e.g. `unsupported tag <div> (at character 12)`.
 */
export function validateTelegramHtml(html: string): TelegramHtmlResult {
  const a = analyse(html);
  return a.error === null ? { ok: true } : { ok: false, error: a.error };
}

/**
 * The length Telegram checks against its limits (4096 for text, 1024 for captions): UTF-16 code
 * units of the text after tags are removed and entities decoded. An emoji outside the BMP counts 2.
 * For input that is not valid Telegram HTML, the length of `htmlToPlain(html)` (an estimate).
 */
export function telegramTextLength(html: string): number {
  const a = analyse(html);
  return a.error === null ? a.length : htmlToPlain(html).length;
}

/** Internal: validity and length in one pass, for the renderer's hot path. */
export function measureTelegramHtml(html: string): { error: string | null; length: number } {
  return analyse(html);
}

const LENIENT_RE = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^<>"']|"[^"]*"|'[^']*')*)>|&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]{0,31});/g;
const HREF_RE = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>]+))/i;
const LENIENT_NAMED: Record<string, string> = { ...NAMED, apos: "'", nbsp: '\u00a0' };

function decodeLenient(s: string): string {
  return s.replace(/&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]{0,31});/g, (whole, body: string) => decodeOne(whole, body));
}

function decodeOne(whole: string, body: string): string {
  if (body[0] === '#') {
    const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  }
  return LENIENT_NAMED[body] ?? whole;
}

/**
 * Telegram HTML (valid or not) as plain text, for the fallback send without parse_mode after a
 * "can't parse entities" answer: tags removed, entities decoded, and each link's URL kept after its
 * text (`Leia mais (https://…)`) so the reader can still follow it. Never throws.
 */
export function htmlToPlain(html: string): string {
  let out = '';
  let last = 0;
  const links: { href: string; start: number }[] = [];
  LENIENT_RE.lastIndex = 0;
  for (let m = LENIENT_RE.exec(html); m; m = LENIENT_RE.exec(html)) {
    out += html.slice(last, m.index);
    last = LENIENT_RE.lastIndex;
    if (m[4] !== undefined) {
      out += decodeOne(m[0], m[4]);
      continue;
    }
    const name = m[2]!.toLowerCase();
    const closing = m[1] === '/';
    if (name === 'br') out += '\n';
    else if (name === 'a' && !closing) {
      const h = HREF_RE.exec(m[3] ?? '');
      links.push({ href: decodeLenient((h?.[1] ?? h?.[2] ?? h?.[3] ?? '').trim()), start: out.length });
    } else if (name === 'a' && closing) {
      const link = links.pop();
      if (link?.href) {
        const label = out.slice(link.start).trim();
        if (!label) out += link.href;
        else if (label !== link.href) out += ` (${link.href})`;
      }
    }
  }
  out += html.slice(last);
  return out;
}
