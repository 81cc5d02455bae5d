import { describe, expect, it } from 'vitest';
import { canonicalUrl, contentHash, dedupKey, isStableGuid } from '../../src/articles/canonical.js';

describe('canonicalUrl', () => {
  it.each([
    ['drops utm_* and sorts the rest', 'https://www.brasil247.com/mundo/kim?utm_source=tw&utm_medium=social&b=2&a=1', 'https://www.brasil247.com/mundo/kim?a=1&b=2'],
    ['drops click ids', 'https://example.com/a?fbclid=x&gclid=y&msclkid=z&id=7', 'https://example.com/a?id=7'],
    ['drops Mailchimp ids', 'https://example.com/a?mc_cid=1&mc_eid=2', 'https://example.com/a'],
    ['drops the fragment', 'https://example.com/a#comments', 'https://example.com/a'],
    ['drops default ports', 'https://example.com:443/a', 'https://example.com/a'],
    ['drops the http default port', 'http://example.com:80/a', 'http://example.com/a'],
    ['keeps other ports', 'http://example.com:8080/a', 'http://example.com:8080/a'],
    ['drops trailing slashes', 'https://example.com/mundo/kim/', 'https://example.com/mundo/kim'],
    ['drops the single slash', 'https://example.com/', 'https://example.com'],
    ['keeps www.', 'https://www.example.com/a', 'https://www.example.com/a'],
    ['lowercases the host only', 'HTTPS://Example.COM/Path/To', 'https://example.com/Path/To'],
    ['keeps http as http', 'http://example.com/a', 'http://example.com/a'],
    ['drops credentials', 'https://user:secret@example.com/a', 'https://example.com/a'],
    ['trims', '  https://example.com/a  ', 'https://example.com/a'],
    ['protocol-relative', '//example.com/a', 'https://example.com/a'],
    ['keeps encoded paths', 'https://example.com/caf%C3%A9/?q=a%20b', 'https://example.com/caf%C3%A9?q=a+b'],
  ])('%s', (_name, input, expected) => {
    expect(canonicalUrl(input)).toBe(expected);
  });

  it('is idempotent', () => {
    const once = canonicalUrl('https://www.example.com:443/a/b/?utm_campaign=x&z=1&a=2#top');
    expect(canonicalUrl(once)).toBe(once);
  });

  it.each([
    ['not a URL', '  not a url  ', 'not a url'],
    ['an URN', 'urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a', 'urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a'],
    ['a tag URI', 'tag:example.com,2005:post-1', 'tag:example.com,2005:post-1'],
    ['a relative path', '/mundo/kim', '/mundo/kim'],
    ['a broken URL', 'https://exa mple.com/x', 'https://exa mple.com/x'],
    ['only a scheme', 'http://', 'http://'],
    ['empty', '', ''],
  ])('never throws: %s comes back trimmed', (_name, input, expected) => {
    expect(canonicalUrl(input)).toBe(expected);
  });
});

describe('dedupKey', () => {
  const base = { guid: null, guidIsPermalink: null, link: null, title: null, summary: null };

  it('prefers a stable guid', () => {
    expect(dedupKey({ ...base, guid: 'urn:uuid:1225c695', link: 'https://example.com/a' })).toBe('guid:urn:uuid:1225c695');
    expect(dedupKey({ ...base, guid: 'brasil247-post-991827', link: 'https://example.com/a' })).toBe('guid:brasil247-post-991827');
  });

  it('canonicalises a guid that is a URL', () => {
    const a = dedupKey({ ...base, guid: 'https://www.example.com/?p=123&utm_source=rss', guidIsPermalink: false });
    const b = dedupKey({ ...base, guid: 'https://www.example.com/?p=123', guidIsPermalink: false });
    expect(a).toBe('guid:https://www.example.com/?p=123');
    expect(a).toBe(b);
  });

  it('uses the canonical link when there is no stable guid', () => {
    expect(dedupKey({ ...base, link: 'https://example.com/a/?utm_source=x#top' })).toBe('url:https://example.com/a');
    // A short numeric guid is only unique inside one feed.
    expect(dedupKey({ ...base, guid: '123', link: 'https://example.com/a' })).toBe('url:https://example.com/a');
  });

  it('survives tracking parameters and fragments: the same story gives the same key', () => {
    const a = dedupKey({ ...base, link: 'https://example.com/story?utm_medium=feed' });
    const b = dedupKey({ ...base, link: 'https://example.com/story/#comments' });
    expect(a).toBe(b);
  });

  it('falls back to a short guid, then to a content hash', () => {
    expect(dedupKey({ ...base, guid: '123', title: 'T' })).toBe('guid:123');
    const key = dedupKey({ ...base, title: 'Kim encontra Shoigu', summary: 'O líder norte-coreano…' });
    expect(key).toMatch(/^hash:[0-9a-f]{32}$/);
    expect(key).toBe(`hash:${contentHash('Kim encontra Shoigu', 'O líder norte-coreano…')}`);
  });

  it('treats blank strings as missing', () => {
    expect(dedupKey({ ...base, guid: '   ', link: '  ', title: 'T' })).toMatch(/^hash:/);
  });
});

describe('contentHash', () => {
  it('is 32 hex digits, stable, and insensitive to whitespace differences', () => {
    const h = contentHash('Título', 'Um  lead\n com espaços');
    expect(h).toMatch(/^[0-9a-f]{32}$/);
    expect(contentHash(' Título ', 'Um lead com espaços')).toBe(h);
  });

  it('changes when the title or the lead changes', () => {
    expect(contentHash('A', 'B')).not.toBe(contentHash('A', 'C'));
    expect(contentHash('A', 'B')).not.toBe(contentHash('AB', ''));
  });

  it('accepts missing values', () => {
    expect(contentHash(null, undefined)).toBe(contentHash('', ''));
  });
});

describe('isStableGuid', () => {
  it.each([
    ['https://example.com/?p=1', true],
    ['urn:uuid:1', true],
    ['tag:example.com,2005:1', true],
    ['a1b2c3d4e5', true],
    ['123', false],
    ['12345678901', false],
    ['abc', false],
    ['', false],
  ])('%s → %s', (guid, expected) => {
    expect(isStableGuid(guid)).toBe(expected);
  });
});
