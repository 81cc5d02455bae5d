import { describe, expect, it } from 'vitest';
import { parseFeed } from '../../src/sources/parse.js';
import { isWordPressPosts, parseWordPressPosts } from '../../src/sources/wordpress.js';
import { SourceError } from '../../src/sources/types.js';

const API = 'https://noticias.example/wp-json/wp/v2/posts?_embed&per_page=2';

/** Two posts in the shape WordPress' REST API gives with `_embed`, written for this test. */
const POSTS = [
  {
    id: 101,
    date: '2024-06-10T09:30:00',
    date_gmt: '2024-06-10T12:30:00',
    modified: '2024-06-10T10:00:00',
    modified_gmt: '2024-06-10T13:00:00',
    guid: { rendered: 'https://noticias.example/?p=101' },
    link: 'https://noticias.example/2024/06/10/reforma-aprovada/',
    title: { rendered: 'Reforma &#8220;aprovada&#8221; &amp; sancionada' },
    excerpt: { rendered: '<p>O Senado aprovou&hellip;</p>\n', protected: false },
    content: { rendered: '<p>Texto completo.</p>', protected: false },
    author: 3,
    featured_media: 55,
    categories: [4],
    tags: [9, 10],
    _embedded: {
      author: [{ id: 3, name: 'Carla Souza', link: 'https://noticias.example/author/carla/' }],
      'wp:featuredmedia': [
        {
          id: 55,
          source_url: 'https://noticias.example/wp-content/uploads/2024/06/senado.jpg',
          alt_text: 'Plenário do Senado',
          caption: { rendered: '<p>Sessão no plen&aacute;rio &#8211; Bras&iacute;lia</p>\n' },
          media_type: 'image',
          mime_type: 'image/jpeg',
          media_details: { width: 1200, height: 800, image_meta: { credit: 'Agência Senado', caption: '' } },
        },
      ],
      'wp:term': [
        [{ id: 4, name: 'Pol&iacute;tica', taxonomy: 'category' }],
        [
          { id: 9, name: 'Senado', taxonomy: 'post_tag' },
          { id: 10, name: 'Reforma &amp; Economia', taxonomy: 'post_tag' },
        ],
        [{ id: 1, name: 'Destaques', taxonomy: 'latest' }],
      ],
    },
  },
  {
    id: 102,
    date: '2024-06-09T08:00:00',
    date_gmt: '2024-06-09T11:00:00',
    guid: { rendered: 'https://noticias.example/?p=102' },
    link: 'https://noticias.example/2024/06/09/sem-embed/',
    title: { rendered: 'Sem imagem' },
    excerpt: { rendered: '' },
    content: { rendered: '' },
    _embedded: { author: [{ code: 'rest_user_invalid_id', message: 'Invalid user ID.' }] },
  },
];

describe('parseWordPressPosts', () => {
  const feed = parseWordPressPosts(POSTS, API);

  it('is a feed of format wordpress whose link is the site home', () => {
    expect(feed).toMatchObject({ format: 'wordpress', link: 'https://noticias.example/', title: null, ttlMinutes: null });
    expect(feed.items).toHaveLength(2);
  });

  it('maps rendered fields, embedded names and the featured image', () => {
    expect(feed.items[0]).toEqual({
      guid: 'https://noticias.example/?p=101',
      guidIsPermalink: false,
      link: 'https://noticias.example/2024/06/10/reforma-aprovada/',
      title: 'Reforma “aprovada” & sancionada',
      summaryHtml: '<p>O Senado aprovou&hellip;</p>',
      contentHtml: '<p>Texto completo.</p>',
      categories: ['Política', 'Senado', 'Reforma & Economia'],
      authors: ['Carla Souza'],
      published: '2024-06-10T12:30:00Z',
      updated: '2024-06-10T13:00:00Z',
      image: {
        url: 'https://noticias.example/wp-content/uploads/2024/06/senado.jpg',
        caption: 'Sessão no plenário – Brasília',
        credit: 'Agência Senado',
      },
      enclosures: [],
    });
  });

  it('copes with missing pieces and error objects in _embedded', () => {
    expect(feed.items[1]).toMatchObject({
      title: 'Sem imagem',
      summaryHtml: null,
      contentHtml: null,
      authors: [],
      categories: [],
      image: null,
      published: '2024-06-09T11:00:00Z',
      updated: null,
    });
  });

  it('accepts a single post object', () => {
    expect(parseWordPressPosts(POSTS[0], API).items).toHaveLength(1);
  });

  it('skips entries without the REST shape, and fails when none has it', () => {
    expect(parseWordPressPosts([POSTS[0], { id: 1 }, 'x'], API).items).toHaveLength(1);
    expect(() => parseWordPressPosts([{ id: 1 }], API)).toThrow(SourceError);
  });
});

describe('WordPress through parseFeed', () => {
  it('is detected from the JSON shape', () => {
    expect(isWordPressPosts(POSTS)).toBe(true);
    expect(isWordPressPosts([])).toBe(false);
    expect(isWordPressPosts({ title: 'JSON Feed' })).toBe(false);
    const feed = parseFeed(JSON.stringify(POSTS), API);
    expect(feed.format).toBe('wordpress');
    expect(feed.items[0]!.title).toBe('Reforma “aprovada” & sancionada');
  });
});
