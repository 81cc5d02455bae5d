/**
 * People paste a site's home page where a feed URL belongs. These helpers recognise an HTML page and
 * read the feeds it advertises (`<link rel="alternate" type="application/rss+xml" href="…">`), so the
 * error can name the right URL and `manchete preview https://site/` can follow it.
 */

const FEED_TYPES = new Set(['application/rss+xml', 'application/atom+xml', 'application/feed+json']);

/**
 * True when `text` is an HTML document rather than a feed: a `<!DOCTYPE html>`, an `<html>` root
 * (XHTML too), or a page that opens straight with `<head>`/`<body>`. Leading whitespace, a BOM,
 * an XML declaration, processing instructions and comments are skipped first.
 */
export function looksLikeHtml(text: string): boolean {
  const head = skipProlog(text.slice(0, 4096));
  if (/^<!doctype\s+html/i.test(head)) return true;
  return /^<(html|head|body|meta|title|script|div)[\s>/]/i.test(head);
}

/**
 * Feed URLs advertised by an HTML page, absolute (resolved against `<base href>`, then `baseUrl`), in page
 * order without duplicates; comment feeds come last so the first entry is the site's main feed.
 */
export function findFeedLinks(html: string, baseUrl: string): string[] {
  const base = documentBase(html, baseUrl);
  const found: { url: string; comments: boolean }[] = [];
  const seen = new Set<string>();
  for (const m of html.matchAll(/<link\b([^<>]*)>/gi)) {
    const attrs = readAttributes(m[1]!);
    const rel = (attrs.get('rel') ?? '').toLowerCase().split(/\s+/);
    const type = (attrs.get('type') ?? '').toLowerCase().split(';')[0]!.trim();
    const href = attrs.get('href');
    if (!rel.includes('alternate') || !FEED_TYPES.has(type) || !href) continue;
    const url = resolve(href, base);
    if (!url || seen.has(url)) continue;
    seen.add(url);
    const title = attrs.get('title') ?? '';
    found.push({ url, comments: /comment|coment[aá]rio/i.test(`${title} ${url}`) });
  }
  return [...found.filter((f) => !f.comments), ...found.filter((f) => f.comments)].map((f) => f.url);
}

function skipProlog(text: string): string {
  let s = text.replace(/^\uFEFF/, '').trimStart();
  for (;;) {
    if (s.startsWith('<?')) {
      const end = s.indexOf('?>');
      if (end < 0) return s;
      s = s.slice(end + 2).trimStart();
    } else if (s.startsWith('<!--')) {
      const end = s.indexOf('-->');
      if (end < 0) return s;
      s = s.slice(end + 3).trimStart();
    } else {
      return s;
    }
  }
}

function documentBase(html: string, baseUrl: string): string {
  const m = /<base\b([^<>]*)>/i.exec(html);
  const href = m ? readAttributes(m[1]!).get('href') : undefined;
  return (href && resolve(href, baseUrl)) || baseUrl;
}

/** Attributes of one tag, names lower-cased, values with the common entities decoded. */
function readAttributes(source: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of source.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) {
    const name = m[1]!.toLowerCase();
    if (!attrs.has(name)) attrs.set(name, decodeBasicEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attrs;
}

// ISO-8859-1's named entities, in code point order from U+00A0 (their names are fixed by HTML).
const LATIN1_NAMES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 ' +
  'acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml ' +
  'Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde ' +
  'Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ' +
  'ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide ' +
  'oslash ugrave uacute ucirc uuml yacute thorn yuml';

const NAMED: Record<string, string> = {
  ...Object.fromEntries(LATIN1_NAMES.split(' ').map((name, i) => [name, String.fromCharCode(0xa0 + i)])),
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  hellip: '\u2026',
  ndash: '\u2013',
  mdash: '\u2014',
  lsquo: '\u2018',
  rsquo: '\u2019',
  sbquo: '\u201a',
  ldquo: '\u201c',
  rdquo: '\u201d',
  bdquo: '\u201e',
  bull: '\u2022',
  euro: '\u20ac',
  trade: '\u2122',
};

/**
 * Decode numeric character references and the entities CMSs commonly emit in attribute values and
 * WordPress' `rendered` strings (`&amp;`, `&#8217;`, `&hellip;`…), once. Unknown names stay as written;
 * the summary stage does the full HTML decoding.
 */
export function decodeBasicEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,7});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref] ?? (/^(AMP|LT|GT|QUOT)$/.test(ref) ? NAMED[ref.toLowerCase()]! : whole);
  });
}

function resolve(href: string, base: string): string | null {
  try {
    return new URL(href.trim(), base).href;
  } catch {
    return null;
  }
}
