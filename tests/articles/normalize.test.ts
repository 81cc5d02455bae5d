import { describe, expect, it } from 'vitest';
import { isThin, normalizeItem, normalizeItemResult, firstImage } from '../../src/articles/normalize.js';
import type { FeedItem } from '../../src/sources/types.js';

function item(over: Partial<FeedItem> = {}): FeedItem {
  return {
    guid: null,
    guidIsPermalink: null,
    link: 'https://www.jornal.example/mundo/kim-encontra-shoigu/?utm_source=rss',
    title: 'Kim encontra Shoigu em Pyongyang',
    summaryHtml: null,
    contentHtml: null,
    categories: [],
    authors: [],
    published: null,
    updated: null,
    image: null,
    enclosures: [],
    ...over,
  };
}

const ctx = { feedUrl: 'https://www.jornal.example/feed', summaryMaxChars: 300 };
const LEAD =
  'O líder norte-coreano Kim Jong Un se reuniu com o secretário do Conselho de Segurança da Rússia, Sergei Shoigu, e discutiu o diálogo estratégico.';

describe('normalizeItem', () => {
  it('builds a full article from a rich item', () => {
    const a = normalizeItem(
      item({
        guid: 'https://www.jornal.example/?p=991827',
        guidIsPermalink: false,
        title: ' Kim &amp; Shoigu: <em>&quot;interesses de segurança&quot;</em> ',
        summaryHtml: `<p>${LEAD}</p><p>✅ Receba as notícias do Jornal no WhatsApp.</p>`,
        contentHtml: `<p>${LEAD}</p><p>Segundo parágrafo do texto.</p><p>Assine o Jornal.</p>`,
        categories: [' Mundo ', 'Coreia do Norte', 'rússia', 'Rússia', 'mundo'],
        authors: ['redacao@jornal.example (Joyce Lee)', 'Outro Autor'],
        published: 'Seg, 24 Set 2018 19:42:40 -0300',
        updated: '2018-09-24T23:00:00Z',
        image: { url: 'https://img.jornal.example/kim.jpg', caption: 'Kim e Shoigu', credit: 'KCNA via Reuters' },
      }),
      ctx,
    );
    expect(a).not.toBeNull();
    expect(a).toEqual({
      id: 'guid:https://www.jornal.example/?p=991827',
      url: 'https://www.jornal.example/mundo/kim-encontra-shoigu',
      title: 'Kim & Shoigu: "interesses de segurança"',
      lead: LEAD,
      body: `${LEAD}\n\nSegundo parágrafo do texto.`,
      section: 'Mundo',
      tags: ['Coreia do Norte', 'rússia'],
      imageUrl: 'https://img.jornal.example/kim.jpg',
      imageCaption: 'Kim e Shoigu',
      imageCredit: 'KCNA via Reuters',
      author: 'Joyce Lee',
      publishedAt: new Date('2018-09-24T22:42:40Z'),
      updatedAt: new Date('2018-09-24T23:00:00Z'),
      feedUrl: 'https://www.jornal.example/feed',
    });
  });

  it('takes the lead from content:encoded when the summary is thin or just the title', () => {
    const content = `<p>${LEAD}</p>`;
    for (const summaryHtml of [null, '', 'Kim encontra Shoigu em Pyongyang', '<p>Kim encontra Shoigu em Pyongyang.</p>', 'Leia mais »']) {
      const a = normalizeItem(item({ summaryHtml, contentHtml: content }), ctx)!;
      expect(a.lead).toBe(LEAD);
    }
  });

  it('removes the title repeated at the start of the summary', () => {
    const a = normalizeItem(item({ summaryHtml: `<b>Kim encontra Shoigu em Pyongyang</b><br>${LEAD}` }), ctx)!;
    expect(a.lead).toBe(LEAD);
  });

  it('leaves the lead empty (thin) when the summary repeats the title and the content is boilerplate', () => {
    const a = normalizeItem(item({ summaryHtml: 'KIM encontra Shoigu, em Pyongyang!', contentHtml: '<p>Assine o Jornal.</p>' }), ctx)!;
    expect(a.lead).toBe('');
    expect(isThin(a)).toBe(true);
  });

  describe('short leads', () => {
    // Real decks of news sites, one short sentence each.
    const decks = ['Supostos sons de tiros foram ouvidos', 'Vêm coisas feias e perigosas por aí.', 'Chuva forte atinge o litoral paulista'];
    for (const deck of decks) {
      it(`keeps the ${deck.length}-character deck "${deck}" as the lead, and the article is not thin`, () => {
        const a = normalizeItem(item({ title: 'Polícia investiga caso na zona sul', summaryHtml: `<p>${deck}</p>` }), ctx)!;
        expect(a.lead).toBe(deck);
        expect(isThin(a)).toBe(false);
      });
    }

    it('drops a lead that only repeats the title, in other case, accents and punctuation', () => {
      const a = normalizeItem(item({ title: 'Câmara aprova reforma', summaryHtml: 'camara APROVA reforma.' }), ctx)!;
      expect(a.lead).toBe('');
    });

    it('drops a lead whose words are all in the title', () => {
      const a = normalizeItem(item({ title: 'Câmara aprova reforma tributária em segundo turno', summaryHtml: 'Reforma tributária: Câmara aprova' }), ctx)!;
      expect(a.lead).toBe('');
    });

    it('keeps what follows a repeated title', () => {
      const a = normalizeItem(item({ title: 'Câmara aprova reforma', summaryHtml: 'Câmara aprova reforma. Texto vai ao Senado.' }), ctx)!;
      expect(a.lead).toBe('Texto vai ao Senado.');
    });

    it('drops a boilerplate-only lead and falls back to the content', () => {
      const a = normalizeItem(item({ summaryHtml: '<p>Assine o Jornal.</p>', contentHtml: '<p>Tiros assustam moradores.</p>' }), ctx)!;
      expect(a.lead).toBe('Tiros assustam moradores.');
    });
  });

  it('summarises a long lead at a sentence boundary', () => {
    const long = `${LEAD} ${LEAD} ${LEAD}`;
    const a = normalizeItem(item({ summaryHtml: long }), { ...ctx, summaryMaxChars: 200 })!;
    expect(a.lead).toBe(LEAD);
  });

  it('uses the summary text as the body when there is no content', () => {
    const a = normalizeItem(item({ summaryHtml: `<p>${LEAD}</p>` }), ctx)!;
    expect(a.body).toBe(LEAD);
  });

  it('applies the feed\'s own boilerplate patterns', () => {
    const a = normalizeItem(item({ summaryHtml: `${LEAD} Baixe o app do Jornal.` }), { ...ctx, boilerplate: [/^Baixe o app/] })!;
    expect(a.lead).toBe(LEAD);
  });

  describe('ids and URLs', () => {
    it('uses the permalink guid as the URL when there is no link', () => {
      const a = normalizeItem(item({ link: null, guid: 'https://www.jornal.example/mundo/x/#top', guidIsPermalink: true }), ctx)!;
      expect(a.url).toBe('https://www.jornal.example/mundo/x');
      expect(a.id).toBe('guid:https://www.jornal.example/mundo/x');
    });

    it('does not take a non-permalink guid as the URL', () => {
      const a = normalizeItem(item({ link: null, guid: 'https://www.jornal.example/?p=1', guidIsPermalink: false }), ctx)!;
      expect(a.url).toBe('');
    });

    it('keys on the canonical link when the guid is missing or weak', () => {
      expect(normalizeItem(item(), ctx)!.id).toBe('url:https://www.jornal.example/mundo/kim-encontra-shoigu');
      expect(normalizeItem(item({ guid: '42' }), ctx)!.id).toBe('url:https://www.jornal.example/mundo/kim-encontra-shoigu');
    });

    it('keys on a content hash when there is neither guid nor link', () => {
      const a = normalizeItem(item({ link: null, summaryHtml: LEAD }), ctx)!;
      expect(a.id).toMatch(/^hash:[0-9a-f]{32}$/);
      expect(normalizeItem(item({ link: null, summaryHtml: LEAD }), ctx)!.id).toBe(a.id);
    });

    it('gives the same id to the same story polled twice with different tracking', () => {
      const a = normalizeItem(item({ link: 'https://www.jornal.example/a?utm_campaign=x' }), ctx)!;
      const b = normalizeItem(item({ link: 'https://www.jornal.example/a/#comentarios' }), ctx)!;
      expect(a.id).toBe(b.id);
    });
  });

  describe('images', () => {
    it('falls back to the first image enclosure', () => {
      const a = normalizeItem(
        item({
          enclosures: [
            { url: 'https://cdn.example/audio.mp3', type: 'audio/mpeg', length: 1 },
            { url: 'https://cdn.example/foto.jpg', type: 'image/jpeg', length: 1 },
          ],
        }),
        ctx,
      )!;
      expect(a.imageUrl).toBe('https://cdn.example/foto.jpg');
    });

    it('accepts an enclosure without a type when it looks like an image', () => {
      const a = normalizeItem(item({ enclosures: [{ url: 'https://cdn.example/f.webp?w=800', type: null, length: null }] }), ctx)!;
      expect(a.imageUrl).toBe('https://cdn.example/f.webp?w=800');
    });

    it('falls back to the first real <img> in the content, resolved against the link', () => {
      const a = normalizeItem(
        item({
          contentHtml:
            '<img src="https://feeds.example/pixel.gif" width="1" height="1"><img src="data:image/gif;base64,R0l" data-src="/img/kim.jpg?a=1&amp;b=2"><p>x</p>',
        }),
        ctx,
      )!;
      expect(a.imageUrl).toBe('https://www.jornal.example/img/kim.jpg?a=1&b=2');
    });

    it('has no image when there is none', () => {
      expect(normalizeItem(item({ contentHtml: '<p>sem imagem</p>' }), ctx)!.imageUrl).toBeNull();
    });
  });

  describe('dates', () => {
    it('reports unparseable dates as missing, never now', () => {
      const a = normalizeItem(item({ published: 'ontem à tarde', updated: 'garbage' }), ctx)!;
      expect(a.publishedAt).toBeNull();
      expect(a.updatedAt).toBeNull();
    });

    it('falls back to the updated date for the published time', () => {
      const a = normalizeItem(item({ updated: '2018-09-24T23:00:00Z' }), ctx)!;
      expect(a.publishedAt).toEqual(new Date('2018-09-24T23:00:00Z'));
    });
  });

  describe('section, tags and author', () => {
    it('has no section or tags when the item has no categories', () => {
      const a = normalizeItem(item({ categories: ['  ', ''] }), ctx)!;
      expect(a.section).toBeNull();
      expect(a.tags).toEqual([]);
    });

    it('decodes entities in categories and strips "Por" from authors', () => {
      const a = normalizeItem(item({ categories: ['Pol&iacute;tica', 'Economia &amp; Finan&ccedil;as'], authors: ['', 'Por Maria Silva'] }), ctx)!;
      expect(a.section).toBe('Política');
      expect(a.tags).toEqual(['Economia & Finanças']);
      expect(a.author).toBe('Maria Silva');
    });
  });

  describe('bad input', () => {
    it('skips an item with neither link nor title, with a reason', () => {
      const r = normalizeItemResult(item({ link: null, title: '  ', guid: 'abc-123-xyz' }), ctx);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/neither a link nor a title/);
      expect(normalizeItem(item({ link: null, title: null }), ctx)).toBeNull();
    });

    it('keeps an item with a title but no link', () => {
      const a = normalizeItem(item({ link: null }), ctx)!;
      expect(a.title).toBe('Kim encontra Shoigu em Pyongyang');
      expect(a.url).toBe('');
    });

    it('keeps an item with a link but no title', () => {
      const a = normalizeItem(item({ title: null }), ctx)!;
      expect(a.title).toBe('');
    });

    it('handles hostile titles and huge content without throwing', () => {
      const a = normalizeItem(
        item({
          title: `<script>alert(1)</script>${'x'.repeat(5000)} & 😀`,
          contentHtml: `<p>${'palavra '.repeat(20000)}</p>`,
        }),
        ctx,
      )!;
      expect(a.title.startsWith('xxxx')).toBe(true);
      expect(a.title.endsWith('& 😀')).toBe(true);
      expect(a.lead.length).toBeLessThanOrEqual(300);
    });

    it('skips an item whose link is not an http(s) address, with the reason', () => {
      const links = [
        'not a url', 'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java&#x09;script:alert(1)',
        'java\tscript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', 'tg://resolve?domain=x',
        'vbscript:msgbox(1)', '//evil.example/x', '/relative/path', 'https://',
      ];
      for (const link of links) {
        const r = normalizeItemResult(item({ link }), ctx);
        expect(r.ok, link).toBe(false);
        if (!r.ok) expect(r.reason).toContain('not http(s)');
      }
      for (const link of ['https://ex.example/a', ' HTTP://ex.example/b ', 'https://ex.example/&amp;x']) {
        expect(normalizeItemResult(item({ link }), ctx).ok, link).toBe(true);
      }
    });

    it('drops image addresses that are not http(s), and takes the next candidate', () => {
      for (const url of ['javascript:alert(1)', 'data:image/png;base64,AAAA', 'file:///etc/passwd', 'tg://x', ' JaVaScRiPt:x', 'java&#x09;script:x']) {
        const a = normalizeItem(item({ image: { url, caption: null, credit: null }, enclosures: [{ url, type: 'image/png', length: null }] }), ctx)!;
        expect(a.imageUrl, url).toBeNull();
        const b = normalizeItem(
          item({ image: { url, caption: null, credit: null }, contentHtml: '<p>x</p><img src="https://img.example/a.jpg">' }),
          ctx,
        )!;
        expect(b.imageUrl, url).toBe('https://img.example/a.jpg');
      }
    });
  });
});

describe('firstImage', () => {
  it('skips unresolvable and non-http sources', () => {
    expect(firstImage('<img src="javascript:alert(1)"><img src="relative.jpg">', null)).toBeNull();
    expect(firstImage("<img src='https://x.example/a.png'>", null)).toBe('https://x.example/a.png');
    expect(firstImage(null, null)).toBeNull();
  });
});

describe('isThin', () => {
  it('is true only without a lead: a short deck is a lead', () => {
    expect(isThin({ lead: '' })).toBe(true);
    expect(isThin({ lead: ' \n ' })).toBe(true);
    expect(isThin({ lead: 'Supostos sons de tiros foram ouvidos' })).toBe(false);
    expect(isThin({ lead: LEAD })).toBe(false);
  });
});
