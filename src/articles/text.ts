/**
 * Text helpers for feed and page HTML: HTML → plain text, entity decoding, whitespace normalisation.
 *
 * `htmlToText` is a small tag scanner rather than html-to-text or a DOM: it runs on every feed item
 * (summary and content:encoded), and html-to-text cost 2.5–3.5× feedsmith's whole parse on real feeds,
 * which alone would break the ingest budget (≤ 3× the bare parse). The scanner only needs to know
 * which tags break lines and which elements to drop; it never builds a tree. Every step is linear in
 * the input, however it is malformed (scan.ts), and only real markup goes: `<comércio>` in a headline
 * is text.
 */
import { dropElements, forEachTag, type FoundTag, unwrapCdata } from './scan.js';

// ---------------------------------------------------------------------------------------------------
// Entities

/** Latin-1 entity names of HTML 4, in code point order from U+00A0 to U+00FF. */
const LATIN1_NAMES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 ' +
  'acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde ' +
  'Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute ' +
  'Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde ' +
  'auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ' +
  'ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml';

/** Greek letters of HTML 4: capitals from U+0391, small from U+03B1 (final sigma included). */
const GREEK_UPPER = 'Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho _ Sigma Tau Upsilon Phi Chi Psi Omega';
const GREEK_LOWER = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigmaf sigma tau upsilon phi chi psi omega';

/** The remaining HTML 4 entities (and `apos`), name → code point. */
const OTHER_ENTITIES: Record<string, number> = {
  quot: 34, amp: 38, apos: 39, lt: 60, gt: 62,
  OElig: 338, oelig: 339, Scaron: 352, scaron: 353, Yuml: 376, fnof: 402, circ: 710, tilde: 732,
  thetasym: 977, upsih: 978, piv: 982,
  ensp: 8194, emsp: 8195, thinsp: 8201, zwnj: 8204, zwj: 8205, lrm: 8206, rlm: 8207,
  ndash: 8211, mdash: 8212, lsquo: 8216, rsquo: 8217, sbquo: 8218, ldquo: 8220, rdquo: 8221, bdquo: 8222,
  dagger: 8224, Dagger: 8225, bull: 8226, hellip: 8230, permil: 8240, prime: 8242, Prime: 8243,
  lsaquo: 8249, rsaquo: 8250, oline: 8254, frasl: 8260, euro: 8364, image: 8465, weierp: 8472, real: 8476,
  trade: 8482, alefsym: 8501, larr: 8592, uarr: 8593, rarr: 8594, darr: 8595, harr: 8596, crarr: 8629,
  lArr: 8656, uArr: 8657, rArr: 8658, dArr: 8659, hArr: 8660, forall: 8704, part: 8706, exist: 8707,
  empty: 8709, nabla: 8711, isin: 8712, notin: 8713, ni: 8715, prod: 8719, sum: 8721, minus: 8722,
  lowast: 8727, radic: 8730, prop: 8733, infin: 8734, ang: 8736, and: 8743, or: 8744, cap: 8745, cup: 8746,
  int: 8747, there4: 8756, sim: 8764, cong: 8773, asymp: 8776, ne: 8800, equiv: 8801, le: 8804, ge: 8805,
  sub: 8834, sup: 8835, nsub: 8836, sube: 8838, supe: 8839, oplus: 8853, otimes: 8855, perp: 8869,
  sdot: 8901, lceil: 8968, rceil: 8969, lfloor: 8970, rfloor: 8971, lang: 10216, rang: 10217, loz: 9674,
  spades: 9824, clubs: 9827, hearts: 9829, diams: 9830,
  // A few HTML5 names that turn up in feeds.
  hyphen: 8208, dash: 8208, horbar: 8213, check: 10003, star: 9734, starf: 9733, copysr: 8471, numero: 8470,
  half: 189, centerdot: 183, NewLine: 10, Tab: 9,
};

function buildEntityTable(): Map<string, string> {
  const table = new Map<string, string>();
  LATIN1_NAMES.split(' ').forEach((name, i) => table.set(name, String.fromCodePoint(0xa0 + i)));
  GREEK_UPPER.split(' ').forEach((name, i) => name !== '_' && table.set(name, String.fromCodePoint(0x391 + i)));
  GREEK_LOWER.split(' ').forEach((name, i) => table.set(name, String.fromCodePoint(0x3b1 + i)));
  for (const [name, cp] of Object.entries(OTHER_ENTITIES)) table.set(name, String.fromCodePoint(cp));
  return table;
}

const ENTITIES = buildEntityTable();

/**
 * HTML's numeric references in 0x80–0x9F name windows-1252 characters (`&#150;` is an en dash), as
 * browsers read them; old Brazilian CMSs still write them.
 */
const CP1252: Record<number, number> = {
  0x80: 0x20ac, 0x82: 0x201a, 0x83: 0x192, 0x84: 0x201e, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021,
  0x88: 0x2c6, 0x89: 0x2030, 0x8a: 0x160, 0x8b: 0x2039, 0x8c: 0x152, 0x8e: 0x17d, 0x91: 0x2018,
  0x92: 0x2019, 0x93: 0x201c, 0x94: 0x201d, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x2dc,
  0x99: 0x2122, 0x9a: 0x161, 0x9b: 0x203a, 0x9c: 0x153, 0x9e: 0x17e, 0x9f: 0x178,
};

const ENTITY_RE = /&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]{1,31}));/y;

function numericChar(cp: number): string {
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\uFFFD';
  const mapped = CP1252[cp];
  return String.fromCodePoint(mapped ?? cp);
}

/**
 * Decodes HTML character references: the HTML 4 named entities (plus `&apos;` and a few HTML5 names),
 * decimal and hex references. Unknown names are left as written; invalid code points become U+FFFD.
 */
export function decodeEntities(text: string): string {
  let amp = text.indexOf('&');
  if (amp < 0) return text;
  // The references are found from each "&" with a sticky regex: a global replace with a callback costs
  // more per reference, and there are several in most feed HTML.
  let out = '';
  let last = 0;
  while (amp >= 0) {
    ENTITY_RE.lastIndex = amp;
    const m = ENTITY_RE.exec(text);
    if (!m) {
      amp = text.indexOf('&', amp + 1);
      continue;
    }
    const [whole, dec, hex, name] = m;
    const char =
      dec !== undefined ? numericChar(Number.parseInt(dec, 10)) : hex !== undefined ? numericChar(Number.parseInt(hex, 16)) : (ENTITIES.get(name!) ?? whole);
    out += text.slice(last, amp) + char;
    last = ENTITY_RE.lastIndex;
    amp = text.indexOf('&', last);
  }
  return out + text.slice(last);
}

// ---------------------------------------------------------------------------------------------------
// Whitespace

/** One scan that tells whether `normalizeWhitespace` has anything to do (text from `htmlToText` rarely does). */
const NEEDS_NORMALIZING_RE =
  /[\r\u2028\u2029\u0085\u200B\u200C\u200D\u2060\uFEFF\u00AD\t\f\v\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]| [ \n]|\n(?: |\n\n)/;

/**
 * Normalises whitespace while keeping paragraphs: runs of spaces become one space, lines are trimmed,
 * line breaks are kept, more than one blank line collapses to one, and invisible characters
 * (zero-width, BOM, soft hyphen) go. The result has no leading or trailing whitespace.
 */
export function normalizeWhitespace(text: string): string {
  // The text the last call returned is normalised already (normalising is idempotent): stripBoilerplate
  // gets htmlToText's output and would otherwise scan it all again.
  if (text === lastNormalized) return text;
  const last = text.charCodeAt(text.length - 1);
  // Already normalised: no odd characters or runs inside, nothing to trim (space, newline) at the ends.
  if (!NEEDS_NORMALIZING_RE.test(text) && text.charCodeAt(0) > 32 && last > 32) return (lastNormalized = text);
  return (lastNormalized = text.replace(WS_RUN_RE, normalizedRun).trim());
}

/** What `normalizeWhitespace` returned last. */
let lastNormalized = '';

/**
 * A run of whitespace and invisible characters that normalising may change: two or more of them, or one
 * that is neither a plain space nor a newline. One pass over the text instead of one per rule.
 */
const WS_RUN_RE =
  /[ \n\t\f\v\r\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000\u2028\u2029\u0085\u200B\u200C\u200D\u2060\uFEFF\u00AD]{2,}|[\t\f\v\r\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000\u2028\u2029\u0085\u200B\u200C\u200D\u2060\uFEFF\u00AD]/g;

/**
 * What a whole run becomes: nothing when it holds only invisible characters; else a blank line when it
 * holds two or more line breaks (CR LF, CR, LF, U+2028, U+2029 and U+0085 each count one), a line break
 * for one, a space for none. Spaces around line breaks go with them.
 */
function normalizedRun(run: string): string {
  let breaks = 0;
  let visible = false;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c === 0x0a || c === 0x2028 || c === 0x2029 || c === 0x85) {
      breaks++;
      visible = true;
    } else if (c === 0x0d) {
      breaks++;
      visible = true;
      if (run.charCodeAt(i + 1) === 0x0a) i++;
    } else if (c !== 0x200b && c !== 0x200c && c !== 0x200d && c !== 0x2060 && c !== 0xfeff && c !== 0xad) {
      visible = true;
    }
  }
  if (!visible) return '';
  return breaks >= 2 ? '\n\n' : breaks === 1 ? '\n' : ' ';
}

/**
 * Runs `collapseWhitespace` rewrites: two or more of whitespace (`\s`, U+0085) and invisible characters
 * together, or one that is not a plain space. A lone space is already what a run becomes, and leaving
 * it alone spares rebuilding every string (most text has nothing else).
 */
const COLLAPSE_RE = /[\s\u0085\u200B\u200C\u200D\u2060\u00AD]{2,}|[^\S ]|[\u0085\u200B\u200C\u200D\u2060\u00AD]/g;

/** A run becomes a space, or nothing when it is made of invisible characters only (they are removed). */
function collapsedRun(run: string): string {
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c !== 0x200b && c !== 0x200c && c !== 0x200d && c !== 0x2060 && c !== 0xfeff && c !== 0xad) return ' ';
  }
  return '';
}

/** Collapses every run of whitespace (newlines included) to one space and trims: for titles and leads. */
export function collapseWhitespace(text: string): string {
  return text.replace(COLLAPSE_RE, collapsedRun).trim();
}

// ---------------------------------------------------------------------------------------------------
// HTML → text

/** Elements whose content never reaches the text. */
const DROP_ELEMENTS = ['script', 'style', 'noscript', 'template', 'iframe', 'svg', 'math', 'object', 'select', 'textarea', 'button'];
/** Photo captions, dropped unless asked for (see HtmlToTextOptions). */
const FIGCAPTION = ['figcaption'];
/** Comments; an unclosed one runs to the end (this regex is linear: an unclosed match takes the rest). */
const COMMENT_RE = /<!--[\s\S]*?(?:-->|$)/g;

/**
 * Element names that make `<name …>` markup: HTML's elements (obsolete ones included, old CMSs still
 * write `<font>` and `<center>`) and the SVG and MathML ones that turn up inline. Anything else between
 * angle brackets (`<comércio>`, `<Lula>`, `<3`) is text a headline quotes, and stays. Names with `-` or
 * `:` are custom or namespaced elements (`<amp-img>`, `<o:p>`) and count as markup.
 */
const HTML_ELEMENTS = new Set(
  (
    'a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink ' +
    'blockquote body br button canvas caption center cite code col colgroup data datalist dd del details ' +
    'dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 ' +
    'h3 h4 h5 h6 head header hgroup hr html i iframe image img input ins isindex kbd keygen label legend ' +
    'li link listing main map mark marquee math menu menuitem meta meter multicol nav nextid nobr noembed ' +
    'noframes noscript object ol optgroup option output p param picture plaintext pre progress q rb rp rt ' +
    'rtc ruby s samp script search section select slot small source spacer span strike strong style sub ' +
    'summary sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul var video ' +
    'wbr xmp ' +
    // SVG and MathML
    'circle clippath defs desc ellipse feblend filter foreignobject g line lineargradient marker mask path ' +
    'pattern polygon polyline radialgradient rect stop symbol text tspan use mi mn mo mrow ms msup msub ' +
    'mfrac msqrt mtext semantics annotation'
  ).split(' '),
);

/** Whether `<name` (as written) starts real markup: a known element, or a custom/namespaced one. */
function isMarkupName(name: string): boolean {
  const lower = name.toLowerCase();
  return HTML_ELEMENTS.has(lower) || lower.includes('-') || lower.includes(':');
}

/**
 * Whether a tag found by the scanner is markup rather than text in angle brackets: declarations and
 * processing instructions are; a named tag is when its name is markup and ends where a tag name ends
 * (`<comércio>` scans as `<com` + `ércio>`: not a tag).
 */
function isMarkup(s: string, tag: FoundTag): boolean {
  if (tag.name === null) return true;
  if (!isMarkupName(tag.name)) return false;
  const after = s.charCodeAt(tag.start + (tag.closing ? 2 : 1) + tag.name.length);
  // ">", "/", or HTML whitespace (space, tab, LF, FF, CR).
  return after === 0x3e || after === 0x2f || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0c || after === 0x0d;
}

/** HTML's own whitespace that needs rewriting: runs, and any newline or tab (single spaces stay as they are). */
const HTML_SPACE_RE = /[ \t\n\r\f]{2,}|[\t\n\r\f]/g;

/** Elements that end a paragraph: a blank line in the text. */
const BLOCK_TAGS = new Set([
  'p', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'dl', 'blockquote', 'section', 'article',
  'header', 'footer', 'aside', 'nav', 'main', 'figure', 'table', 'pre', 'hr', 'address', 'form', 'fieldset',
  'details', 'summary', 'center', 'body', 'html', 'hgroup',
]);
/** Elements that end a line. */
const LINE_TAGS = new Set(['br', 'li', 'dt', 'dd', 'tr', 'caption', 'figcaption', 'option', 'legend']);
/** Cells: a space between them. */
const CELL_TAGS = new Set(['td', 'th']);

/**
 * Markup escaped once more than it should be (`&lt;p&gt;…&lt;/p&gt;`): some feeds double-encode their HTML.
 * Only closing tags, `<br>` and tags with attributes count: text that mentions `<b>` is not markup.
 */
const ESCAPED_MARKUP_RE = /&lt;\/(?:p|div|a|strong|em|b|i|span|li|ul|ol|h[1-6]|figure|blockquote)&gt;|&lt;br\s*\/?&gt;|&lt;(?:img|a|p|div|span)\s[^&]{0,200}?(?:src|href|class|style)=/i;

/** Options of `htmlToText`. */
export interface HtmlToTextOptions {
  /** Keep `<figcaption>` text (photo captions and credits). Default false: captions are not prose. */
  keepFigcaptions?: boolean;
}

/**
 * Turns an HTML fragment or document into plain text: paragraphs and other blocks become blank-line
 * separated, `<br>` and list items a newline, links keep only their text, images and media are dropped,
 * scripts/styles/iframes (and by default figure captions) are dropped with their content, entities are
 * decoded after the tags are gone (so `&lt;b&gt;` stays a visible `<b>`), whitespace is normalised.
 * HTML that a feed escaped twice (`&lt;p&gt;…`) and that holds no real tag is unescaped once first.
 * Never throws; malformed markup yields its best-effort text.
 */
export function htmlToText(html: string, options: HtmlToTextOptions = {}): string {
  if (!html) return '';
  let s = html;
  if (!s.includes('<')) {
    if (!s.includes('&')) return normalizeWhitespace(s);
    if (!ESCAPED_MARKUP_RE.test(s)) return normalizeWhitespace(decodeEntities(s));
    s = decodeEntities(s);
  }
  // Both start with "<!": most feed HTML has neither, and the test costs less than two scans.
  if (s.includes('<!')) s = unwrapCdata(s).replace(COMMENT_RE, ' ');
  // Source whitespace is not layout: collapse it first, then the tags below decide the breaks.
  s = s.replace(HTML_SPACE_RE, ' ');
  s = dropElements(s, DROP_ELEMENTS, ' ');
  if (!options.keepFigcaptions) s = dropElements(s, FIGCAPTION, '\n');
  return normalizeWhitespace(replaceTagsAndDecode(s, blockBreak));
}

/** What a tag leaves in the text: a blank line for blocks, a line break for lines, a space between cells. */
function blockBreak(tag: FoundTag): string {
  if (tag.name === null) return ''; // <!DOCTYPE>, <?xml?>
  const name = tag.name.toLowerCase();
  if (BLOCK_TAGS.has(name)) return '\n\n';
  // A line starts with each item; the closing tag adds nothing (</li><li> is one break, not two).
  if (LINE_TAGS.has(name)) return tag.closing && name !== 'br' ? '' : '\n';
  if (CELL_TAGS.has(name)) return ' ';
  return '';
}

/** What a tag leaves in inline text: a space where a block, line or cell ends, else nothing. */
function inlineBreak(tag: FoundTag): string {
  const name = tag.name?.toLowerCase() ?? '';
  return BLOCK_TAGS.has(name) || LINE_TAGS.has(name) || CELL_TAGS.has(name) ? ' ' : '';
}

/**
 * Every markup tag (see `isMarkup`) replaced by what `breakFor` says it leaves; other "<" stay as text.
 * Linear on any input (see scan.ts).
 */
function replaceTags(s: string, breakFor: (tag: FoundTag) => string): string {
  if (!s.includes('<')) return s;
  let out = '';
  let last = 0;
  forEachTag(s, (tag) => {
    if (!isMarkup(s, tag)) return false;
    out += s.slice(last, tag.start) + breakFor(tag);
    last = tag.end;
    return true;
  });
  return last === 0 ? s : out + s.slice(last);
}

/**
 * `decodeEntities(replaceTags(s, breakFor))` in one pass over the text. The text between tags is decoded
 * in pieces that end where a tag leaves a break: a break is spaces and newlines, which no reference
 * holds, so no reference spans two pieces; tags that leave nothing join their neighbours into one piece
 * (`&am<b>p;` still reads `&`, as after the tags are gone).
 */
function replaceTagsAndDecode(s: string, breakFor: (tag: FoundTag) => string): string {
  if (!s.includes('<')) return decodeEntities(s);
  let out = '';
  let piece = ''; // raw text of the current piece before `last`, from before tags that left nothing
  let last = 0;
  forEachTag(s, (tag) => {
    if (!isMarkup(s, tag)) return false;
    const br = breakFor(tag);
    if (br === '') {
      piece += s.slice(last, tag.start);
    } else {
      out += decodeEntities(piece + s.slice(last, tag.start)) + br;
      piece = '';
    }
    last = tag.end;
    return true;
  });
  if (last === 0) return decodeEntities(s);
  return out + decodeEntities(piece + s.slice(last));
}

/**
 * Plain text of a short inline fragment (a title, a category, an author): tags stripped, entities
 * decoded, all whitespace collapsed to single spaces.
 */
export function inlineText(html: string | null | undefined): string {
  if (!html) return '';
  let s = html;
  if (s.includes('<')) {
    s = replaceTags(dropElements(unwrapCdata(s).replace(COMMENT_RE, ' '), DROP_ELEMENTS, ' '), inlineBreak);
  }
  return collapseWhitespace(decodeEntities(s));
}
