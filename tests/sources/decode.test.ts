import { describe, expect, it } from 'vitest';
import { charsetFromContentType, decodeBody, decodeWindows1252, detectCharset } from '../../src/sources/decode.js';

const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const utf8 = (s: string) => Uint8Array.from(Buffer.from(s, 'utf8'));
const utf16le = (s: string) => Uint8Array.from(Buffer.from(s, 'utf16le'));
const utf16be = (s: string) => {
  const le = Buffer.from(s, 'utf16le');
  return Uint8Array.from(le.swap16());
};

describe('decodeBody', () => {
  it('uses the Content-Type charset', () => {
    expect(decodeBody(latin1('Ação'), 'text/xml; charset=ISO-8859-1')).toBe('Ação');
    expect(decodeBody(utf8('Ação'), 'application/rss+xml;charset="utf-8"')).toBe('Ação');
  });

  it('reads Latin-1 without any declaration (the common Brazilian case) by the heuristic', () => {
    const bytes = latin1('<?xml version="1.0"?><rss><channel><title>Eleições, São Paulo</title></channel></rss>');
    expect(detectCharset(bytes, 'text/xml')).toEqual({ charset: 'windows-1252', source: 'heuristic' });
    expect(decodeBody(bytes, 'text/xml')).toContain('Eleições, São Paulo');
  });

  it('takes valid UTF-8 as UTF-8 without a declaration', () => {
    const bytes = utf8('<rss><title>Eleições 🗳️</title></rss>');
    expect(detectCharset(bytes, null)).toEqual({ charset: 'utf-8', source: 'heuristic' });
    expect(decodeBody(bytes, null)).toBe('<rss><title>Eleições 🗳️</title></rss>');
  });

  it('follows the XML declaration when the header says nothing', () => {
    const bytes = latin1('<?xml version="1.0" encoding="ISO-8859-1"?><rss><title>Notícias</title></rss>');
    expect(detectCharset(bytes, null).source).toBe('declaration');
    expect(decodeBody(bytes, null)).toContain('Notícias');
  });

  it('reads an HTML meta charset for pages', () => {
    const bytes = latin1('<html><head><meta charset="iso-8859-1"><title>Ação</title></head></html>');
    expect(detectCharset(bytes, 'text/html').source).toBe('declaration');
    expect(decodeBody(bytes, 'text/html')).toContain('<title>Ação</title>');
  });

  it('maps windows-1252 punctuation (0x80–0x9F) to the right characters', () => {
    const bytes = Uint8Array.from([0x93, 0x4f, 0x6c, 0xe1, 0x94, 0x20, 0x96, 0x20, 0x80, 0x31, 0x85]);
    expect(decodeBody(bytes, 'text/plain; charset=windows-1252')).toBe('“Olá” – €1…');
    expect(decodeWindows1252(bytes)).toBe('“Olá” – €1…');
  });

  it('falls back to windows-1252 when a UTF-8 label is wrong', () => {
    expect(decodeBody(latin1('Ação'), 'text/xml; charset=utf-8')).toBe('Ação');
    expect(decodeBody(latin1('<?xml version="1.0" encoding="utf-8"?><t>é</t>'), null)).toContain('<t>é</t>');
  });

  it('strips a UTF-8 BOM and lets it win over a contradicting header', () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('<rss>ç</rss>')]);
    expect(detectCharset(bytes, 'text/xml; charset=iso-8859-1')).toEqual({ charset: 'utf-8', source: 'bom' });
    expect(decodeBody(bytes, 'text/xml; charset=iso-8859-1')).toBe('<rss>ç</rss>');
  });

  it('reads UTF-16 LE and BE with a BOM, and strips it', () => {
    const text = '<?xml version="1.0" encoding="UTF-16"?><rss>Ação</rss>';
    const le = Uint8Array.from([0xff, 0xfe, ...utf16le(text)]);
    const be = Uint8Array.from([0xfe, 0xff, ...utf16be(text)]);
    expect(decodeBody(le, null)).toBe(text);
    expect(decodeBody(be, null)).toBe(text);
  });

  it('recognises UTF-16 without a BOM from its zero bytes', () => {
    const text = '<rss version="2.0"><title>Ação</title></rss>';
    expect(detectCharset(utf16le(text), null)).toEqual({ charset: 'utf-16le', source: 'utf-16-pattern' });
    expect(decodeBody(utf16le(text), null)).toBe(text);
    expect(decodeBody(utf16be(text), null)).toBe(text);
  });

  it('ignores a UTF-16 declaration on bytes that are plainly 8-bit', () => {
    const bytes = utf8('<?xml version="1.0" encoding="utf-16"?><rss>é</rss>');
    expect(detectCharset(bytes, null).source).toBe('heuristic');
    expect(decodeBody(bytes, 'text/xml; charset=utf-16')).toContain('<rss>é</rss>');
  });

  it('ignores unknown labels and keeps going', () => {
    const bytes = utf8('<?xml version="1.0" encoding="x-fake"?><rss>é</rss>');
    expect(decodeBody(bytes, 'text/xml; charset=bogus')).toContain('<rss>é</rss>');
  });

  it('supports other encodings TextDecoder knows (ISO-8859-15)', () => {
    expect(decodeBody(Uint8Array.from([0xa4]), 'text/plain; charset=iso-8859-15')).toBe('€');
  });

  it('handles empty input', () => {
    expect(decodeBody(new Uint8Array(0), null)).toBe('');
  });
});

describe('charsetFromContentType', () => {
  it('reads the parameter in its usual spellings', () => {
    expect(charsetFromContentType('text/xml; charset=UTF-8')).toBe('utf-8');
    expect(charsetFromContentType('text/xml;charset="ISO-8859-1"')).toBe('iso-8859-1');
    expect(charsetFromContentType('text/xml')).toBeNull();
    expect(charsetFromContentType(null)).toBeNull();
  });
});
