import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { createPublishHook, PUBLISH_MAX_BYTES, readPublishBody } from '../../src/delivery/publish-hook.js';
import { mountHooks } from '../../src/http/hooks.js';
import { startHttpServer } from '../../src/http/server.js';
import { verifyHmac } from '../../src/lib/hook.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';

const SECRET = 'a-long-publish-secret-0123456789';
const sign = (body: string | Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const reading = { feedUrl: 'https://site.example/feed', section: null, summaryMaxChars: 300 };

describe('verifyHmac', () => {
  const body = Buffer.from('{"url":"https://site.example/a"}');
  it('accepts the HMAC of the exact body, in any hex case', () => {
    expect(verifyHmac(sign(body), body, SECRET)).toBe(true);
    expect(verifyHmac(sign(body).toUpperCase().replace('SHA256', 'sha256'), body, SECRET)).toBe(true);
    for (const algo of ['sha1', 'sha384', 'sha512']) expect(verifyHmac(`${algo}=${createHmac(algo, SECRET).update(body).digest('hex')}`, body, SECRET)).toBe(true);
  });
  it('refuses another secret, another body, a cut or padded digest, junk and missing headers', () => {
    expect(verifyHmac(sign(body, 'another-secret-0123456789'), body, SECRET)).toBe(false);
    expect(verifyHmac(sign(body), Buffer.from(`${body.toString()} `), SECRET)).toBe(false);
    expect(verifyHmac(sign(body).slice(0, -2), body, SECRET)).toBe(false);
    expect(verifyHmac(`${sign(body)}00`, body, SECRET)).toBe(false);
    expect(verifyHmac('sha256=zz', body, SECRET)).toBe(false);
    expect(verifyHmac('md5=abcd', body, SECRET)).toBe(false);
    expect(verifyHmac('', body, SECRET)).toBe(false);
    expect(verifyHmac(undefined, body, SECRET)).toBe(false);
  });
  it('takes only the algorithms it is told to (the publish hook: sha256)', () => {
    const sha1 = `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`;
    expect(verifyHmac(sha1, body, SECRET, new Set(['sha256']))).toBe(false);
  });
});

describe('readPublishBody', () => {
  it('{"url"} alone is a page to read', () => {
    expect(readPublishBody({ url: 'https://site.example/noticia/1' }, reading)).toEqual({ kind: 'url', url: 'https://site.example/noticia/1' });
  });

  it('a JSON Feed item becomes the Article its feed item would be (same dedup key)', () => {
    const r = readPublishBody(
      { id: 'https://site.example/?p=42', url: 'https://site.example/noticia/42?utm_source=x', title: 'Chuva forte em São Paulo', summary: 'A Defesa Civil emitiu um alerta de chuva forte para toda a região metropolitana nesta tarde.', tags: ['Cidades', 'Clima'], date_published: '2026-12-02T10:00:00Z' },
      reading,
    );
    expect(r.kind).toBe('article');
    if (r.kind !== 'article') return;
    expect(r.article).toMatchObject({ url: 'https://site.example/noticia/42', title: 'Chuva forte em São Paulo', section: 'Cidades', tags: ['Clima'], feedUrl: reading.feedUrl });
    expect(r.article.id).toContain('?p=42');
    expect(r.article.lead).toMatch(/^A Defesa Civil/);
    expect(r.article.publishedAt?.toISOString()).toBe('2026-12-02T10:00:00.000Z');
  });

  it('a JSON Feed item without an id takes its URL; PUBLISH_SECTION fills a missing section', () => {
    const r = readPublishBody({ url: 'https://site.example/b', title: 'Sem id', content_html: '<p>Um texto longo o bastante para ser o lead da mensagem, com detalhes.</p>' }, { ...reading, section: 'Geral' });
    expect(r.kind === 'article' && r.article.section).toBe('Geral');
    expect(r.kind === 'article' && r.article.id).toContain('site.example/b');
  });

  it('a WordPress REST post object (what webhook plugins send) is read like the WordPress source', () => {
    const post = {
      id: 42,
      link: 'https://site.example/2026/12/02/eleicao/',
      guid: { rendered: 'https://site.example/?p=42' },
      title: { rendered: 'Elei&#231;&#227;o: resultado sai hoje' },
      excerpt: { rendered: '<p>O tribunal divulga o resultado final da elei&ccedil;&atilde;o municipal ainda nesta noite, segundo a assessoria.</p>' },
      content: { rendered: '<p>Texto completo.</p>' },
      date_gmt: '2026-12-02T12:00:00',
      _embedded: { 'wp:term': [[{ name: 'Política', taxonomy: 'category' }]] },
    };
    const r = readPublishBody(post, reading);
    expect(r.kind).toBe('article');
    if (r.kind !== 'article') return;
    expect(r.article).toMatchObject({ url: 'https://site.example/2026/12/02/eleicao', title: 'Eleição: resultado sai hoje', section: 'Política' });
    expect(r.article.publishedAt?.toISOString()).toBe('2026-12-02T12:00:00.000Z');
  });

  it('junk is invalid, with a reason', () => {
    for (const junk of [null, 3, 'text', [], [{ url: 'https://site.example/a' }], {}, { foo: 'bar' }, { url: 'javascript:alert(1)' }, { url: 'file:///etc/passwd' }, { title: 'Sem link', summary: 'um item sem url nenhuma' }, { title: { rendered: 'WP' }, link: 'javascript:x' }]) {
      const r = readPublishBody(junk, reading);
      expect(r.kind, JSON.stringify(junk)).toBe('invalid');
    }
  });
});

describe('the publish hook over HTTP', () => {
  let close: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await close?.();
    close = null;
  });

  async function serve(withHook = true) {
    const intakes: Article[] = [];
    const pages: string[] = [];
    const known = new Map<string, string>();
    const mem = memoryLogger();
    const hook = createPublishHook({
      secret: SECRET,
      ...reading,
      readPage: async (url) => {
        pages.push(url);
        return { id: `url:${url}`, url, title: 'Da página', lead: 'Lead da página.', body: '', section: null, tags: [], imageUrl: null, imageCaption: null, imageCredit: null, author: null, publishedAt: null, updatedAt: null, feedUrl: null };
      },
      // Records what reaches the pipeline; a repeat of an id is "known", as ArticleRepo would say.
      intake: async (a) => {
        intakes.push(a);
        const first = known.get(a.id);
        if (!first) known.set(a.id, a.id);
        return { id: first ?? a.id, known: !!first, queued: first ? 0 : 2, posted: !first };
      },
      logger: mem.logger,
    });
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, logger: mem.logger, handlers: withHook ? [mountHooks([hook])] : [] });
    close = server.close;
    const post = async (body: string | Buffer, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}/hooks/publish`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> | null };
    };
    return { url: server.url, post, intakes, pages, mem };
  }

  const item = JSON.stringify({ id: 'g-1', url: 'https://site.example/n/1', title: 'Notícia', summary: 'Um resumo com substância suficiente para ser o lead da mensagem.' });

  it('202 with the id for a signed item; the same story again is 200 with the same id', async () => {
    const s = await serve();
    const first = await s.post(item, { 'x-manchete-signature': sign(item) });
    expect(first).toEqual({ status: 202, json: { id: expect.stringContaining('site.example/n/1'), deliveries: 2 } });
    const again = await s.post(item, { 'x-manchete-signature': sign(item) });
    expect(again).toEqual({ status: 200, json: { id: first.json!.id, duplicate: true, edits: 0 } });
    expect(s.intakes.map((a) => a.title)).toEqual(['Notícia', 'Notícia']);
  });

  it('{"url"} reads the page through the reader it was given', async () => {
    const s = await serve();
    const body = JSON.stringify({ url: 'https://site.example/n/2' });
    expect((await s.post(body, { 'x-manchete-signature': sign(body) })).status).toBe(202);
    expect(s.pages).toEqual(['https://site.example/n/2']);
    expect(s.intakes[0]!.title).toBe('Da página');
  });

  it('401 without a signature or with a wrong one, and the body is not parsed (junk still gets 401)', async () => {
    const s = await serve();
    expect((await s.post(item)).status).toBe(401);
    expect((await s.post(item, { 'x-manchete-signature': 'sha256=abc' })).status).toBe(401);
    expect((await s.post(item, { 'x-manchete-signature': sign(item, 'wrong-secret-0123456789') })).status).toBe(401);
    expect((await s.post('not json at all', { 'x-manchete-signature': sign('other') })).status).toBe(401);
    expect((await s.post(item, { 'x-manchete-signature': `sha1=${createHmac('sha1', SECRET).update(item).digest('hex')}` })).status).toBe(401);
    expect(s.intakes).toEqual([]);
    expect(s.mem.lines.join('\n')).not.toContain(SECRET);
  });

  it('400 for a signed body that is not JSON or not a story', async () => {
    const s = await serve();
    for (const junk of ['not json', '[]', '{"foo":1}', '{"url":"ftp://x"}']) {
      const r = await s.post(junk, { 'x-manchete-signature': sign(junk) });
      expect(r.status, junk).toBe(400);
      expect(typeof r.json?.error).toBe('string');
    }
    expect(s.intakes).toEqual([]);
  });

  it('413 for a body over 1 MB, declared or streamed without a length; exactly 1 MB is read', async () => {
    const s = await serve();
    const big = Buffer.alloc(PUBLISH_MAX_BYTES + 1, 0x20);
    expect((await s.post(big, { 'x-manchete-signature': sign(big) })).status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${s.url}/hooks/publish`, { method: 'POST', headers: { 'x-manchete-signature': sign(big), 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 64 * 1024) req.write(big.subarray(i, i + 64 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
    const limit = Buffer.alloc(PUBLISH_MAX_BYTES, 0x20);
    expect((await s.post(limit, { 'x-manchete-signature': sign(limit) })).status).toBe(400); // read, signed, but no JSON
  });

  it('GET is 405; without PUBLISH_WEBHOOK_SECRET the path does not exist (404)', async () => {
    const s = await serve();
    expect((await fetch(`${s.url}/hooks/publish`)).status).toBe(405);
    await close?.();
    const off = await serve(false);
    expect((await off.post(item, { 'x-manchete-signature': sign(item) })).status).toBe(404);
  });
});
