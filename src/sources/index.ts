/**
 * Sources: getting feeds (and article pages) and turning them into ParsedFeed values.
 * fetch → decode → parse (RSS/Atom/RDF/JSON Feed via feedsmith, WordPress REST), with HTML pages
 * recognised and their advertised feeds named.
 */
export { decodeBody, detectCharset, charsetFromContentType, decodeWindows1252 } from './decode.js';
export type { CharsetDecision, CharsetSource } from './decode.js';
export { fetchFeed, fetchPage, fetchImage, parseMaxAge, localPath, formatBytes, MAX_REDIRECTS } from './fetch.js';
export type { FetchOptions, FetchedPage } from './fetch.js';
export { parseFeed } from './parse.js';
export { looksLikeHtml, findFeedLinks, decodeBasicEntities } from './discover.js';
export { parseWordPressPosts, isWordPressPosts } from './wordpress.js';
