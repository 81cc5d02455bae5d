import { describe, expect, it } from 'vitest';
import { parseFeed } from '../../src/sources/parse.js';
import { SourceError } from '../../src/sources/types.js';

const BASE = 'https://jornal.example/feed/';

/** The SourceError parseFeed throws for `text` (failing the test when it does not throw one). */
function parseError(text: string, base = BASE): SourceError {
  try {
    parseFeed(text, base);
  } catch (e) {
    expect(e).toBeInstanceOf(SourceError);
    return e as SourceError;
  }
  throw new Error('expected parseFeed to throw');
}

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Jornal do Exemplo</title>
  <link>https://jornal.example/</link>
  <atom:link rel="self" href="https://jornal.example/feed/"/>
  <language>pt-BR</language>
  <ttl>15</ttl>
  <item>
    <title>Coreia do Norte testa míssil</title>
    <link>/mundo/coreia-testa-missil</link>
    <guid isPermaLink="false">jornal-12345</guid>
    <description><![CDATA[<p>O líder da Coreia do Norte afirmou…</p>]]></description>
    <content:encoded><![CDATA[<p>Corpo <a href="/outra">da matéria</a> com <img src="/img/corpo.jpg"></p>]]></content:encoded>
    <category>Mundo</category>
    <category>Ásia</category>
    <dc:subject>Mundo</dc:subject>
    <dc:creator>Maria Silva</dc:creator>
    <pubDate>Seg, 24 Set 2018 19:42:40 -0300</pubDate>
    <media:content url="https://cdn.jornal.example/kim-small.jpg" medium="image" width="300"/>
    <media:content url="https://cdn.jornal.example/kim.jpg" medium="image" width="1200">
      <media:description>Kim Jong-un em Pyongyang</media:description>
      <media:credit>KCNA via REUTERS</media:credit>
    </media:content>
    <enclosure url="https://cdn.jornal.example/podcast.mp3" type="audio/mpeg" length="12345"/>
  </item>
  <item>
    <title>Segundo item</title>
    <guid>https://jornal.example/2</guid>
    <author>redacao@jornal.example (Redação)</author>
    <enclosure url="https://cdn.jornal.example/foto.png" type="image/png" length="0"/>
  </item>
</channel>
</rss>`;

describe('parseFeed: RSS 2.0', () => {
  const feed = parseFeed(RSS, BASE);
  const [first, second] = feed.items;

  it('reads the channel', () => {
    expect(feed).toMatchObject({
      format: 'rss',
      title: 'Jornal do Exemplo',
      link: 'https://jornal.example/',
      language: 'pt-BR',
      ttlMinutes: 15,
    });
    expect(feed.items).toHaveLength(2);
  });

  it('maps an item with content:encoded, media and Dublin Core', () => {
    expect(first).toMatchObject({
      guid: 'jornal-12345',
      guidIsPermalink: false,
      link: 'https://jornal.example/mundo/coreia-testa-missil',
      title: 'Coreia do Norte testa míssil',
      summaryHtml: '<p>O líder da Coreia do Norte afirmou…</p>',
      categories: ['Mundo', 'Ásia'],
      authors: ['Maria Silva'],
      published: 'Seg, 24 Set 2018 19:42:40 -0300',
      updated: null,
      image: { url: 'https://cdn.jornal.example/kim.jpg', caption: 'Kim Jong-un em Pyongyang', credit: 'KCNA via REUTERS' },
      enclosures: [{ url: 'https://cdn.jornal.example/podcast.mp3', type: 'audio/mpeg', length: 12345 }],
    });
  });

  it('makes relative URLs inside the content absolute', () => {
    expect(first!.contentHtml).toBe(
      '<p>Corpo <a href="https://jornal.example/outra">da matéria</a> com <img src="https://jornal.example/img/corpo.jpg"></p>',
    );
  });

  it('uses a permalink guid as the link, and an image enclosure as the image', () => {
    expect(second).toMatchObject({
      guid: 'https://jornal.example/2',
      guidIsPermalink: true,
      link: 'https://jornal.example/2',
      authors: ['Redação'],
      image: { url: 'https://cdn.jornal.example/foto.png', caption: null, credit: null },
      summaryHtml: null,
      contentHtml: null,
      published: null,
    });
  });
});

describe('parseFeed: relative URLs', () => {
  const rss = (channelLink: string, itemLink: string, base = '') =>
    `<rss version="2.0"><channel${base ? ` xml:base="${base}"` : ''}><link>${channelLink}</link>
     <item><title>t</title><link>${itemLink}</link></item></channel></rss>`;

  it('resolves against the channel link before the feed URL', () => {
    const feed = parseFeed(rss('https://site.example/news/', 'a/1'), 'https://feeds.cdn.example/site.xml');
    expect(feed.items[0]!.link).toBe('https://site.example/news/a/1');
  });

  it('lets xml:base win', () => {
    const feed = parseFeed(rss('https://site.example/', 'a/1', 'https://base.example/dir/'), 'https://feeds.cdn.example/site.xml');
    expect(feed.items[0]!.link).toBe('https://base.example/dir/a/1');
  });

  it('uses the feed URL when the channel link is itself relative', () => {
    const feed = parseFeed(rss('/', '/a/1'), 'https://site.example/feed.xml');
    expect(feed.link).toBe('https://site.example/');
    expect(feed.items[0]!.link).toBe('https://site.example/a/1');
  });

  it('leaves relative URLs of a local file without a web base as they are, rather than inventing file:// links', () => {
    const feed = parseFeed(rss('/news', '/a/1'), 'file:///tmp/feed.xml');
    expect(feed.link).toBe('/news');
    expect(feed.items[0]!.link).toBe('/a/1');
  });
});

describe('parseFeed: Atom', () => {
  const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/" xml:lang="en">
  <title>Blog</title>
  <link rel="self" href="https://blog.example/atom.xml"/>
  <link rel="alternate" type="text/html" href="/"/>
  <author><name>Feed Author</name></author>
  <entry>
    <title type="html">A &amp;amp; B</title>
    <id>tag:blog.example,2024:1</id>
    <link rel="edit" href="/edit/1"/>
    <link rel="alternate" type="application/json" href="/1.json"/>
    <link rel="alternate" type="text/html" href="posts/1"/>
    <link rel="enclosure" type="image/jpeg" href="/img/1.jpg" length="2048"/>
    <published>2024-03-01T10:00:00Z</published>
    <updated>2024-03-02T11:00:00-03:00</updated>
    <summary>5 &lt; 6 &amp; text</summary>
    <content type="html">&lt;p&gt;Hello &lt;a href="other"&gt;there&lt;/a&gt;&lt;/p&gt;</content>
    <category term="tech" label="Technology"/>
    <category term="news"/>
  </entry>
  <entry xml:base="https://other.example/base/">
    <title>Second</title>
    <id>https://other.example/base/2</id>
    <updated>2024-03-03T00:00:00Z</updated>
    <author><email>someone@example.org</email></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>xhtml</p></div></content>
  </entry>
</feed>`;
  const feed = parseFeed(ATOM, 'https://blog.example/atom.xml');

  it('reads the feed with its alternate link and language', () => {
    expect(feed).toMatchObject({ format: 'atom', title: 'Blog', link: 'https://blog.example/', language: 'en', ttlMinutes: null });
  });

  it('prefers the text/html alternate link and resolves it against xml:base', () => {
    expect(feed.items[0]!.link).toBe('https://blog.example/posts/1');
  });

  it('maps the entry fields', () => {
    expect(feed.items[0]).toMatchObject({
      guid: 'tag:blog.example,2024:1',
      guidIsPermalink: null,
      title: 'A &amp; B',
      summaryHtml: '5 &lt; 6 &amp; text',
      contentHtml: '<p>Hello <a href="https://blog.example/other">there</a></p>',
      categories: ['Technology', 'news'],
      authors: ['Feed Author'],
      published: '2024-03-01T10:00:00Z',
      updated: '2024-03-02T11:00:00-03:00',
      image: { url: 'https://blog.example/img/1.jpg', caption: null, credit: null },
      enclosures: [{ url: 'https://blog.example/img/1.jpg', type: 'image/jpeg', length: 2048 }],
    });
  });

  it('uses an http id as the link when there is no alternate, and an author email when there is no name', () => {
    expect(feed.items[1]).toMatchObject({
      link: 'https://other.example/base/2',
      authors: ['someone@example.org'],
      published: null,
      updated: '2024-03-03T00:00:00Z',
    });
    expect(feed.items[1]!.contentHtml).toContain('xhtml');
  });

  it('reads Atom 0.3 (issued, modified, escaped content)', () => {
    const feed03 = parseFeed(
      `<feed version="0.3" xmlns="http://purl.org/atom/ns#">
        <title>Old</title><link rel="alternate" type="text/html" href="http://old.example/"/>
        <entry><title>E</title><link rel="alternate" type="text/html" href="http://old.example/e"/><id>e1</id>
        <issued>2003-12-13T08:29:29-04:00</issued><modified>2003-12-13T18:30:02Z</modified>
        <content type="text/html" mode="escaped">&lt;p&gt;hi&lt;/p&gt;</content></entry></feed>`,
      'http://old.example/atom.xml',
    );
    expect(feed03.format).toBe('atom');
    expect(feed03.items[0]).toMatchObject({
      link: 'http://old.example/e',
      published: '2003-12-13T08:29:29-04:00',
      updated: '2003-12-13T18:30:02Z',
      contentHtml: '<p>hi</p>',
    });
  });
});

describe('parseFeed: RDF (RSS 1.0)', () => {
  const RDF = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel rdf:about="https://rdf.example/rss">
    <title>RDF Site</title><link>https://rdf.example/</link><dc:language>pt</dc:language>
  </channel>
  <item rdf:about="https://rdf.example/a">
    <title>Item A</title><link>https://rdf.example/a</link>
    <description>Resumo</description>
    <content:encoded><![CDATA[<p>Texto</p>]]></content:encoded>
    <dc:date>2018-09-24T19:42:40-03:00</dc:date>
    <dc:subject>Economia</dc:subject><dc:creator>João</dc:creator>
  </item>
  <item rdf:about="https://rdf.example/b"><title>Item B</title></item>
</rdf:RDF>`;

  it('maps items, with rdf:about as the guid and the fallback link', () => {
    const feed = parseFeed(RDF, 'https://rdf.example/rss');
    expect(feed).toMatchObject({ format: 'rdf', title: 'RDF Site', link: 'https://rdf.example/', language: 'pt' });
    expect(feed.items[0]).toMatchObject({
      guid: 'https://rdf.example/a',
      link: 'https://rdf.example/a',
      title: 'Item A',
      summaryHtml: 'Resumo',
      contentHtml: '<p>Texto</p>',
      published: '2018-09-24T19:42:40-03:00',
      categories: ['Economia'],
      authors: ['João'],
    });
    expect(feed.items[1]).toMatchObject({ guid: 'https://rdf.example/b', link: 'https://rdf.example/b' });
  });
});

describe('parseFeed: JSON Feed', () => {
  it('maps JSON Feed 1.1', () => {
    const json = JSON.stringify({
      version: 'https://jsonfeed.org/version/1.1',
      title: 'JSON News',
      home_page_url: 'https://json.example/',
      language: 'pt-BR',
      authors: [{ name: 'Feed Author' }],
      items: [
        {
          id: 42,
          url: '/noticia/42',
          title: 'Título',
          summary: 'Resumo com <3 e & comercial',
          content_text: 'Primeiro parágrafo.\n\nSegundo < terceiro.',
          image: 'https://json.example/42.jpg',
          date_published: '2024-05-01T12:00:00-03:00',
          date_modified: '2024-05-01T13:00:00-03:00',
          tags: ['Política', 'Brasil'],
          attachments: [{ url: 'https://json.example/42.mp3', mime_type: 'audio/mpeg', size_in_bytes: 99 }],
        },
        { id: 'b', external_url: 'https://elsewhere.example/b', content_html: '<p>html</p>', authors: [{ name: 'Ana' }] },
      ],
    });
    const feed = parseFeed(json, 'https://json.example/feed.json');
    expect(feed).toMatchObject({ format: 'json', title: 'JSON News', link: 'https://json.example/', language: 'pt-BR' });
    expect(feed.items[0]).toMatchObject({
      guid: '42',
      link: 'https://json.example/noticia/42',
      title: 'Título',
      summaryHtml: 'Resumo com &lt;3 e &amp; comercial',
      contentHtml: '<p>Primeiro parágrafo.</p><p>Segundo &lt; terceiro.</p>',
      categories: ['Política', 'Brasil'],
      authors: ['Feed Author'],
      published: '2024-05-01T12:00:00-03:00',
      updated: '2024-05-01T13:00:00-03:00',
      image: { url: 'https://json.example/42.jpg', caption: null, credit: null },
      enclosures: [{ url: 'https://json.example/42.mp3', type: 'audio/mpeg', length: 99 }],
    });
    expect(feed.items[1]).toMatchObject({ guid: 'b', link: 'https://elsewhere.example/b', contentHtml: '<p>html</p>', authors: ['Ana'] });
  });

  it('accepts JSON Feed 1.0 with the singular author and a sloppy version', () => {
    const json = JSON.stringify({
      version: '1.0',
      title: 'Old JSON',
      items: [{ id: '1', url: 'https://j.example/1', content_html: '<p>x</p>', author: { name: 'Solo' } }],
    });
    const feed = parseFeed(json, 'https://j.example/feed.json');
    expect(feed.format).toBe('json');
    expect(feed.items[0]!.authors).toEqual(['Solo']);
  });

  it('rejects invalid JSON and JSON that is no feed', () => {
    const bad = parseError('{"title": "x", ', 'https://j.example/feed.json');
    expect(bad.details.kind).toBe('parse');
    expect(bad.message).toMatch(/^feed https:\/\/j\.example\/feed\.json is not valid JSON: /);
    const other = parseError('{"hello": "world"}', 'https://j.example/x.json');
    expect(other.details.kind).toBe('not-a-feed');
    expect(parseError('[1, 2, 3]').details.kind).toBe('not-a-feed');
  });
});

describe('parseFeed: what real feeds get wrong', () => {
  it('tolerates a bare &, &nbsp; and an unescaped <br>', () => {
    const feed = parseFeed(
      `<rss version="2.0"><channel><title>A & B&nbsp;C</title>
       <item><title>Preço & prazo</title><description>linha<br>outra</description></item></channel></rss>`,
      BASE,
    );
    expect(feed.title).toBe('A & B\u00a0C');
    expect(feed.items[0]!.title).toBe('Preço & prazo');
    expect(feed.items[0]!.summaryHtml).toContain('linha');
  });

  it('ignores a BOM and whitespace before the XML declaration', () => {
    const feed = parseFeed(`\uFEFF\n\n   <?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>`, BASE);
    expect(feed.title).toBe('T');
  });

  it('removes control characters that are illegal in XML and in messages', () => {
    const feed = parseFeed('<rss version="2.0"><channel><item><title>ab\u0008cd\u0001</title></item></channel></rss>', BASE);
    expect(feed.items[0]!.title).toBe('abcd');
  });

  it('reads a feed with an empty channel as a feed with no items', () => {
    expect(parseFeed('<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>', BASE)).toEqual({
      format: 'rss',
      title: null,
      link: null,
      language: null,
      ttlMinutes: null,
      items: [],
    });
  });

  it('reports truncated XML clearly', () => {
    const truncated = RSS.slice(0, RSS.indexOf('<item>') + 40);
    const err = parseError(truncated);
    expect(err.details.kind).toBe('parse');
    expect(err.message).toBe(`feed ${BASE} is not valid XML: it ends before </rss> (the document is truncated or malformed)`);
    expect(err.url).toBe(BASE);
  });

  it('reports a document cut inside its root tag', () => {
    expect(parseError('<?xml version="1.0"?><rss version="2.0"').message).toMatch(/ends inside the <rss> tag/);
  });

  it('reports malformed XML with the parser reason on one line', () => {
    const err = parseError('<rss version="2.0"><channel><title>x</title><item><title>y</ti></item></channel></rss>');
    expect(err.details.kind).toBe('parse');
    expect(err.message).toMatch(/^feed https:\/\/jornal\.example\/feed\/ is not valid XML: .+/);
    expect(err.message).not.toContain('\n');
  });

  it('says what a non-feed XML document is', () => {
    const err = parseError('<?xml version="1.0"?><note><to>Tove</to></note>');
    expect(err.details.kind).toBe('not-a-feed');
    expect(err.message).toBe(`${BASE} is not a feed: its root element is <note>, not RSS, Atom, RDF or JSON Feed`);
  });

  it('says an empty body is empty', () => {
    expect(parseError('  \n ').message).toMatch(/is empty/);
  });

  it('names the feeds an HTML page advertises', () => {
    const err = parseError(
      `<!DOCTYPE html><html><head>
        <link rel="alternate" type="application/rss+xml" title="Comentários" href="/comments/feed/">
        <link rel="alternate" type="application/rss+xml" title="Feed" href="/feed/">
        <link rel="alternate" type="application/atom+xml" href="https://site.example/atom.xml">
      </head><body></body></html>`,
      'https://site.example/',
    );
    expect(err.details.kind).toBe('not-a-feed');
    expect(err.details.alternates).toEqual([
      'https://site.example/feed/',
      'https://site.example/atom.xml',
      'https://site.example/comments/feed/',
    ]);
    expect(err.message).toBe(
      'https://site.example/ is an HTML page, not a feed; it advertises https://site.example/feed/ ' +
        '(and https://site.example/atom.xml, https://site.example/comments/feed/) — use that URL',
    );
  });

  it('says so when an HTML page advertises no feed', () => {
    const err = parseError('<html><body>nada</body></html>', 'https://site.example/');
    expect(err.details.alternates).toEqual([]);
    expect(err.message).toMatch(/is an HTML page, not a feed, and it advertises none/);
  });
});

describe('parseFeed: picking the image', () => {
  const item = (inner: string) =>
    parseFeed(
      `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
        xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><link>https://s.example/</link><item><title>t</title>${inner}</item></channel></rss>`,
      'https://s.example/feed',
    ).items[0]!;

  it('takes media:thumbnail (the widest) with the item credit', () => {
    expect(
      item(`<media:thumbnail url="/t-small.jpg" width="100"/><media:thumbnail url="/t-big.jpg" width="800"/>
            <media:credit>Foto: Agência</media:credit>`).image,
    ).toEqual({ url: 'https://s.example/t-big.jpg', caption: null, credit: 'Foto: Agência' });
  });

  it('looks inside media:group', () => {
    expect(item(`<media:group><media:content url="https://s.example/g.jpg" type="image/jpeg"/></media:group>`).image?.url).toBe(
      'https://s.example/g.jpg',
    );
  });

  it('skips non-image media:content', () => {
    expect(item(`<media:content url="https://s.example/v.mp4" medium="video"/>`).image).toBeNull();
  });

  it('falls back to itunes:image', () => {
    expect(item(`<itunes:image href="https://s.example/cover.jpg"/>`).image?.url).toBe('https://s.example/cover.jpg');
  });

  it('falls back to the first real <img> of the content, skipping pixels and emoji', () => {
    const found = item(`<content:encoded><![CDATA[
      <img src="https://feeds.feedburner.com/~r/x/~4/abc" height="1" width="1">
      <img class="wp-smiley" src="https://s.w.org/images/core/emoji/smile.png">
      <img src="/uploads/foto.jpg" alt="Foto">]]></content:encoded>`);
    expect(found.image).toEqual({ url: 'https://s.example/uploads/foto.jpg', caption: null, credit: null });
  });

  it('has no image when there is none', () => {
    expect(item('<description>sem imagem</description>').image).toBeNull();
  });
});
