import { describe, expect, it } from 'vitest';
import { OpmlError, readOpml, writeOpml } from '../../src/sources/opml.js';

const NESTED = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Assinaturas</title></head>
  <body>
    <outline text="Política">
      <outline text="Senado &amp; Câmara" type="rss" xmlUrl="https://a.example/politica.xml?x=1&amp;y=2" htmlUrl="https://a.example/"/>
      <outline text="Subpasta">
        <outline text="Fundo" type="rss" xmlUrl="https://b.example/fundo.xml" interval="10m"/>
      </outline>
    </outline>
    <outline text="Solto" type="rss" xmlUrl="https://c.example/feed" category="/Economia/Mercado,/Outra"/>
    <outline text="Repetido" type="rss" xmlUrl="https://c.example/feed"/>
    <outline text="Só uma pasta vazia"/>
  </body>
</opml>`;

describe('readOpml', () => {
  it('reads every feed outline, nested folders too, with its section and interval, once each', () => {
    expect(readOpml(NESTED)).toEqual([
      { url: 'https://a.example/politica.xml?x=1&y=2', title: 'Senado & Câmara', section: 'Política', interval: null },
      { url: 'https://b.example/fundo.xml', title: 'Fundo', section: 'Subpasta', interval: '10m' },
      // category wins over the folder; the last segment of the first path.
      { url: 'https://c.example/feed', title: 'Solto', section: 'Mercado', interval: null },
    ]);
  });

  it('refuses what is not OPML and malformed XML with one line each', () => {
    expect(() => readOpml('<rss version="2.0"><channel></channel></rss>')).toThrow(OpmlError);
    expect(() => readOpml('<rss version="2.0"><channel></channel></rss>')).toThrow(/not OPML/);
    expect(() => readOpml('<opml version="2.0"><body><outline text="x" xmlUrl="')).toThrow(/not well-formed/);
  });

  it('a body without feeds is no feed, not an error', () => {
    expect(readOpml('<opml version="2.0"><head/><body><outline text="pasta"/></body></opml>')).toEqual([]);
  });

  it('deeply nested outlines stop at a bound instead of exhausting the stack', () => {
    const depth = 2000;
    const text = `<opml version="2.0"><body>${'<outline text="p">'.repeat(depth)}<outline text="f" xmlUrl="https://deep.example/f"/>${'</outline>'.repeat(depth)}</body></opml>`;
    let feeds: ReturnType<typeof readOpml> | undefined;
    try {
      feeds = readOpml(text);
    } catch (err) {
      // feedsmith may refuse such a document itself; either way it is an OpmlError, never a crash.
      expect(err).toBeInstanceOf(OpmlError);
    }
    if (feeds) expect(feeds).toEqual([]);
  });
});

describe('writeOpml', () => {
  it('writes OPML 2.0 that reads back to the same feeds (escaping included)', () => {
    const feeds = [
      { url: 'https://a.example/f?x=1&y=2', title: 'A & "B" <C>', section: 'Política', interval: '5m' },
      { url: 'https://b.example/rss', title: null, section: null, interval: null },
    ];
    const text = writeOpml(feeds, { title: 'Manchete', now: new Date('2026-12-01T00:00:00Z') });
    expect(text).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<opml version="2.0">/);
    expect(text).toContain('xmlUrl="https://a.example/f?x=1&amp;y=2"');
    expect(readOpml(text)).toEqual([
      { url: 'https://a.example/f?x=1&y=2', title: 'A & "B" <C>', section: 'Política', interval: '5m' },
      // An untitled feed is written with its URL as the text (OPML requires text), and read back untitled.
      { url: 'https://b.example/rss', title: null, section: null, interval: null },
    ]);
  });

  it('with no feed, a valid document with a comment outline and no feed in it', () => {
    const text = writeOpml([], { title: 'x' });
    expect(text).toContain('isComment="true"');
    expect(readOpml(text)).toEqual([]);
  });
});
