/**
 * The fake Bot API's own reading of parse_mode HTML, written from the Bot API documentation
 * (core.telegram.org/bots/api#html-style) and independent of Manchete's renderer on purpose: a fake that
 * reused the renderer's validator could not catch the renderer's mistakes.
 *
 * What it accepts: b/strong, i/em, u/ins, s/strike/del, tg-spoiler, span class="tg-spoiler", a href,
 * code, pre (with an inner code, class="language-…" naming the language), blockquote (expandable),
 * tg-emoji emoji-id; entities &lt; &gt; &amp; &quot; and numeric ones. Tags balanced; nothing nested
 * inside pre/code except that inner code; no blockquote inside a blockquote. (Telegram drops entities
 * nested in pre/code rather than refusing them; refusing is stricter, as Manchete's renderer is.)
 *
 * Deliberately stricter than Telegram in two places, both promises Manchete makes: a bare `&` that does
 * not start one of those entities is refused (Telegram keeps it literally), and `<a>` needs an href.
 * Error texts follow Telegram's ("Unsupported start tag "x" at byte offset N", "Can't find end tag
 * corresponding to start tag "b"", …), byte offsets in UTF-8 like Telegram's.
 */

/** One formatting entity, offsets and lengths in UTF-16 code units as the Bot API reports them. */
export interface FakeEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
}

export interface ParsedTelegramHtml {
  /** The text after entity parsing: what Telegram counts against 4096/1024. */
  text: string;
  entities: FakeEntity[];
}

/** The reason Telegram's parser gives, without the "Bad Request: can't parse entities: " prefix. */
export class HtmlParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HtmlParseError';
  }
}

const ENTITY_TYPES: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

interface OpenTag {
  name: string;
  offset: number;
  attrs: Record<string, string>;
  byte: number;
  /** A `code` directly inside `pre` that only sets the language. */
  languageOf?: OpenTag;
  language?: string;
}

const NAME = /[A-Za-z0-9_-]/;
const SPACE = /\s/;

function decodeAttribute(value: string): string {
  return value.replace(/&(lt|gt|amp|quot|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});/g, (whole, body: string) => {
    if (body === 'lt') return '<';
    if (body === 'gt') return '>';
    if (body === 'amp') return '&';
    if (body === 'quot') return '"';
    const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
}

/** Parses Telegram HTML as the fake server does; throws HtmlParseError with Telegram-like reasons. */
export function parseTelegramHtml(html: string): ParsedTelegramHtml {
  let out = '';
  const entities: FakeEntity[] = [];
  const stack: OpenTag[] = [];
  const byteAt = (index: number) => Buffer.byteLength(html.slice(0, index));
  let i = 0;
  while (i < html.length) {
    const c = html[i]!;
    if (c === '&') {
      const m = /^&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/.exec(html.slice(i, i + 12));
      if (!m) throw new HtmlParseError(`Character "&" at byte offset ${byteAt(i)} does not start an HTML entity; it must be escaped as &amp;`);
      if (m[1]) out += m[1] === 'lt' ? '<' : m[1] === 'gt' ? '>' : m[1] === 'amp' ? '&' : '"';
      else {
        const cp = m[2] ? parseInt(m[2], 10) : parseInt(m[3]!, 16);
        if (cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          throw new HtmlParseError(`Invalid numeric HTML entity at byte offset ${byteAt(i)}`);
        }
        out += String.fromCodePoint(cp);
      }
      i += m[0].length;
      continue;
    }
    if (c !== '<') {
      out += c;
      i += 1;
      continue;
    }
    const start = i;
    if (html[i + 1] === '/') {
      let j = i + 2;
      let name = '';
      while (j < html.length && NAME.test(html[j]!)) name += html[j++];
      while (j < html.length && SPACE.test(html[j]!)) j++;
      if (html[j] !== '>') throw new HtmlParseError(`Unclosed end tag at byte offset ${byteAt(start)}`);
      const top = stack.pop();
      if (!top) throw new HtmlParseError(`Unexpected end tag at byte offset ${byteAt(start)}`);
      const lname = name.toLowerCase();
      if (top.name !== lname) {
        throw new HtmlParseError(`Unmatched end tag at byte offset ${byteAt(start)}, expected "</${top.name}>", found "</${lname}>"`);
      }
      closeTag(top, out.length, entities);
      i = j + 1;
      continue;
    }
    let j = i + 1;
    let name = '';
    while (j < html.length && NAME.test(html[j]!)) name += html[j++];
    const lname = name.toLowerCase();
    if (!(lname in ENTITY_TYPES)) throw new HtmlParseError(`Unsupported start tag "${lname}" at byte offset ${byteAt(start)}`);
    const attrs: Record<string, string> = {};
    for (;;) {
      while (j < html.length && SPACE.test(html[j]!)) j++;
      if (j >= html.length) throw new HtmlParseError(`Unclosed start tag at byte offset ${byteAt(start)}`);
      if (html[j] === '>') {
        j++;
        break;
      }
      let attr = '';
      while (j < html.length && NAME.test(html[j]!)) attr += html[j++];
      if (!attr) throw new HtmlParseError(`Empty attribute name in the tag "${lname}" at byte offset ${byteAt(j)}`);
      while (j < html.length && SPACE.test(html[j]!)) j++;
      let value = '';
      if (html[j] === '=') {
        j++;
        while (j < html.length && SPACE.test(html[j]!)) j++;
        const q = html[j];
        if (q === '"' || q === "'") {
          const end = html.indexOf(q, j + 1);
          if (end < 0) throw new HtmlParseError(`Unclosed start tag at byte offset ${byteAt(start)}`);
          value = html.slice(j + 1, end);
          j = end + 1;
        } else {
          while (j < html.length && !SPACE.test(html[j]!) && html[j] !== '>') value += html[j++];
        }
      }
      attrs[attr.toLowerCase()] = decodeAttribute(value);
    }
    const parent = stack[stack.length - 1];
    const insideCode = stack.find((t) => t.name === 'pre' || t.name === 'code');
    let languageOf: OpenTag | undefined;
    if (insideCode) {
      if (lname === 'code' && parent?.name === 'pre') languageOf = parent;
      else throw new HtmlParseError(`Entities can't be nested inside "${insideCode.name}" at byte offset ${byteAt(start)}`);
    }
    if (lname === 'blockquote' && stack.some((t) => t.name === 'blockquote')) {
      throw new HtmlParseError(`Blockquote entities can't be nested at byte offset ${byteAt(start)}`);
    }
    if (lname === 'a' && !attrs.href) throw new HtmlParseError(`Tag "a" must have a non-empty href attribute at byte offset ${byteAt(start)}`);
    if (lname === 'span' && attrs.class !== 'tg-spoiler') {
      throw new HtmlParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${byteAt(start)}`);
    }
    if (lname === 'tg-emoji' && !attrs['emoji-id']) throw new HtmlParseError(`Custom emoji entity must contain a tg://emoji URL or emoji-id at byte offset ${byteAt(start)}`);
    const open: OpenTag = { name: lname, offset: out.length, attrs, byte: byteAt(start) };
    if (languageOf) {
      open.languageOf = languageOf;
      const lang = /^language-(.+)$/.exec(attrs.class ?? '');
      if (lang && languageOf.offset === out.length && !languageOf.language) languageOf.language = lang[1];
    }
    stack.push(open);
    i = j;
  }
  const unclosed = stack.pop();
  if (unclosed) throw new HtmlParseError(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text: out, entities };
}

function closeTag(tag: OpenTag, end: number, entities: FakeEntity[]) {
  const length = end - tag.offset;
  if (tag.languageOf) return; // the pre carries the language
  if (length <= 0) return; // Telegram drops empty entities
  let type = ENTITY_TYPES[tag.name]!;
  if (tag.name === 'blockquote' && 'expandable' in tag.attrs) type = 'expandable_blockquote';
  const entity: FakeEntity = { type, offset: tag.offset, length };
  if (tag.name === 'a') entity.url = tag.attrs.href;
  if (tag.name === 'pre' && tag.language) entity.language = tag.language;
  if (tag.name === 'tg-emoji') entity.custom_emoji_id = tag.attrs['emoji-id'];
  entities.push(entity);
}
