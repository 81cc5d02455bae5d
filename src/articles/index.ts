/**
 * The articles stage: the Article model and everything that turns raw feed or page data into it
 * (dates, canonical URLs and dedup keys, HTML → text, boilerplate removal, summaries, normalisation).
 */
export type { Article } from './article.js';
export * from './boilerplate.js';
export * from './canonical.js';
export * from './dates.js';
export * from './normalize.js';
export * from './summary.js';
export * from './text.js';
