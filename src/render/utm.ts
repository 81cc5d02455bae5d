import { isPlainHttpUrl } from '../articles/canonical.js';
import type { Platform, UtmSetting } from './types.js';

export type { UtmSetting, UtmTags } from './types.js';

/**
 * Campaign tags on the links Manchete posts, so a newsroom's analytics can tell chat readers apart.
 * Added at render time only: the article URL (and so the dedup key, see articles/canonical.ts) never
 * carries them.
 */


const DEFAULT_MEDIUM = 'social';
const DEFAULT_CAMPAIGN = 'manchete';

/**
 * `url` with `utm_source`, `utm_medium`, `utm_campaign` (and `utm_content` when set) for `platform`.
 * Any `utm_*` the URL already has is replaced; the other parameters stay as written, in their order,
 * and a fragment stays after the query. Only absolute http(s) URLs are tagged; anything else (or
 * `setting === false`) comes back unchanged.
 */
export function tagUrl(url: string, platform: Platform, setting?: UtmSetting): string {
  if (setting === false || !/^https?:\/\//i.test(url)) return url;
  // The parser only has to say yes for addresses that are not plainly valid (see isPlainHttpUrl).
  if (!isPlainHttpUrl(url)) {
    try {
      new URL(url);
    } catch {
      return url;
    }
  }
  const hashAt = url.indexOf('#');
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const queryAt = beforeHash.indexOf('?');
  const base = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const kept = queryAt < 0 ? [] : beforeHash
    .slice(queryAt + 1)
    .split('&')
    .filter((p) => p !== '' && !/^utm_/i.test(p));
  const tags = setting === undefined ? defaultTags(platform) : tagsFor(platform, setting);
  if (kept.length === 0) return `${base}?${tags}${fragment}`;
  if (tags !== '') kept.push(tags);
  return `${base}?${kept.join('&')}${fragment}`;
}

/** The tags of destinations with no UTM setting of their own: the same few strings on every link. */
const DEFAULT_TAGS = new Map<Platform, string>();

function defaultTags(platform: Platform): string {
  let tags = DEFAULT_TAGS.get(platform);
  if (tags === undefined) {
    tags = tagsFor(platform, undefined);
    DEFAULT_TAGS.set(platform, tags);
  }
  return tags;
}

/** `utm_source=…&utm_medium=…&utm_campaign=…[&utm_content=…]`, values encoded, empty ones left out. */
function tagsFor(platform: Platform, setting: Exclude<UtmSetting, false> | undefined): string {
  const parts: string[] = [];
  const tags: [string, string | undefined][] = [
    ['utm_source', setting?.source ?? platform],
    ['utm_medium', setting?.medium ?? DEFAULT_MEDIUM],
    ['utm_campaign', setting?.campaign ?? DEFAULT_CAMPAIGN],
    ['utm_content', setting?.content],
  ];
  for (const [k, v] of tags) if (v !== undefined && v !== '') parts.push(`${k}=${encodeURIComponent(v)}`);
  return parts.join('&');
}
