/**
 * Bytes to text for feeds and article pages. Feeds arrive in whatever encoding their CMS was set up with,
 * and real Brazilian sites serve Latin-1 without saying so; decoding them as UTF-8 would turn every
 * "ção" into "�". The order of evidence:
 *
 * 1. a byte-order mark (RFC 7303 §3.3 gives it precedence over any label);
 * 2. the `charset` of the Content-Type header;
 * 3. UTF-16 recognised from its first bytes (`<` `\0` …) when there is no BOM;
 * 4. the XML declaration's `encoding`, or an HTML `<meta charset>`;
 * 5. a heuristic: valid UTF-8 is UTF-8, anything else is windows-1252.
 *
 * A label that claims UTF-8 for bytes that are not valid UTF-8 falls back to windows-1252 too: the label
 * is the thing that is wrong. windows-1252 is a superset of ISO-8859-1 for every printable character, and
 * the WHATWG Encoding standard (which TextDecoder follows) decodes `iso-8859-1` as windows-1252 anyway.
 */

/** Where the charset decision came from: useful in logs when a feed shows mojibake. */
export type CharsetSource = 'bom' | 'content-type' | 'utf-16-pattern' | 'declaration' | 'heuristic';

/** The decision {@link detectCharset} makes: a label TextDecoder accepts, and why it was chosen. */
export interface CharsetDecision {
  /** A WHATWG encoding label accepted by TextDecoder (`utf-8`, `windows-1252`, `utf-16le`, …). */
  charset: string;
  source: CharsetSource;
}

const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode a feed or page body. Never throws: the worst case is windows-1252, which maps every byte to a
 * character. A leading BOM is removed from the result.
 */
export function decodeBody(bytes: Uint8Array, contentType: string | null): string {
  // The heuristic's UTF-8 check happens in the decode itself (fallback below), not twice.
  const { charset, source } = decide(bytes, contentType, false);
  let text: string;
  if (charset === 'utf-8') {
    try {
      text = UTF8_FATAL.decode(bytes);
    } catch {
      // Labelled (or declared) UTF-8 but it is not: the label is wrong; Latin-1 is what such sites send.
      text = decodeWindows1252(source === 'bom' ? bytes.subarray(3) : bytes);
    }
  } else {
    text = decoderFor(charset).decode(bytes);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Choose the charset of `bytes`, following the order in this module's comment. Pure; exported for tests and logs. */
export function detectCharset(bytes: Uint8Array, contentType: string | null): CharsetDecision {
  return decide(bytes, contentType, true);
}

function decide(bytes: Uint8Array, contentType: string | null, validateUtf8: boolean): CharsetDecision {
  const bom = charsetFromBom(bytes);
  if (bom) return { charset: bom, source: 'bom' };

  const fromHeader = normaliseLabel(charsetFromContentType(contentType));
  // A UTF-16 header label on bytes that do not look like UTF-16 is a lie (and would decode to garbage).
  const utf16 = utf16FromPattern(bytes);
  if (fromHeader && (!fromHeader.startsWith('utf-16') || utf16)) {
    return { charset: fromHeader === 'utf-16' ? (utf16 ?? 'utf-16le') : fromHeader, source: 'content-type' };
  }
  if (utf16) return { charset: utf16, source: 'utf-16-pattern' };

  const declared = normaliseLabel(charsetFromDeclaration(bytes));
  // Without a BOM or the UTF-16 byte pattern, a declared UTF-16 cannot be right: the declaration itself
  // was readable as ASCII.
  if (declared && !declared.startsWith('utf-16')) return { charset: declared, source: 'declaration' };

  const utf8 = !validateUtf8 || isValidUtf8(bytes);
  return { charset: utf8 ? 'utf-8' : 'windows-1252', source: 'heuristic' };
}

/** The `charset` parameter of a Content-Type header value, lower-cased, or null. */
export function charsetFromContentType(contentType: string | null): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType);
  return m ? m[2]!.toLowerCase() : null;
}

function charsetFromBom(b: Uint8Array): string | null {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  return null;
}

/** UTF-16 without a BOM, recognised by an ASCII character next to a zero byte in the first two units. */
function utf16FromPattern(b: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  if (b.length < 4) return null;
  if (b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) return 'utf-16le';
  if (b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0) return 'utf-16be';
  return null;
}

/** `encoding="…"` of an XML declaration, or `<meta charset>` / `http-equiv` of an HTML page, in the first 2 KB. */
function charsetFromDeclaration(bytes: Uint8Array): string | null {
  const head = latin1(bytes.subarray(0, 2048));
  const xml = /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(head);
  if (xml) return xml[1]!.toLowerCase();
  const meta = /<meta\b[^<>]*?\bcharset\s*=\s*["']?([A-Za-z0-9._:-]+)/i.exec(head);
  return meta ? meta[1]!.toLowerCase() : null;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const byte of bytes) s += String.fromCharCode(byte);
  return s;
}

const ALIASES: Record<string, string> = {
  utf8: 'utf-8',
  'unicode-1-1-utf-8': 'utf-8',
  // ASCII is a subset of both; treating it as UTF-8 keeps the invalid-UTF-8 fallback for liars.
  'us-ascii': 'utf-8',
  ascii: 'utf-8',
  latin1: 'iso-8859-1',
  'latin-1': 'iso-8859-1',
  iso8859_1: 'iso-8859-1',
  'iso_8859-1': 'iso-8859-1',
  cp1252: 'windows-1252',
  'win-1252': 'windows-1252',
  unicode: 'utf-16',
  utf16: 'utf-16',
};

/** A label TextDecoder understands, in our canonical spelling, or null when unknown. */
function normaliseLabel(label: string | null): string | null {
  if (!label) return null;
  const l = ALIASES[label] ?? label;
  if (l === 'utf-16') return l;
  try {
    const enc = new TextDecoder(l).encoding;
    // TextDecoder maps iso-8859-1 to windows-1252 (WHATWG); report that plainly.
    return enc;
  } catch {
    return null;
  }
}

function decoderFor(charset: string): { decode(bytes: Uint8Array): string } {
  if (charset === 'windows-1252') return { decode: decodeWindows1252 };
  try {
    // TextDecoder strips a UTF-8/UTF-16 BOM by default.
    return new TextDecoder(charset);
  } catch {
    return { decode: decodeWindows1252 };
  }
}

// Node 20's TextDecoder decodes windows-1252 as plain Latin-1 (0x80–0x9F become C1 controls instead of
// “ ” € …), so the 32 characters that differ are mapped here.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** windows-1252 (and so ISO-8859-1, as WHATWG reads it): every byte maps to one character. */
export function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!/[\u0080-\u009f]/.test(latin1)) return latin1;
  return latin1.replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

function isValidUtf8(bytes: Uint8Array): boolean {
  // Fast path: pure ASCII is valid UTF-8 and the common case for English feeds.
  let i = 0;
  while (i < bytes.length && bytes[i]! < 0x80) i++;
  if (i === bytes.length) return true;
  try {
    UTF8_FATAL.decode(bytes.subarray(i));
    return true;
  } catch {
    return false;
  }
}
