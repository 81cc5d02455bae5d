/** Format and direction marks, zero-width characters, soft hyphens: invisible, so never part of a name. */
const INVISIBLE = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/g;

/**
 * Folds a topic or section name for comparison: invisible characters dropped, compatibility forms and
 * accents removed, lower case, inner spaces collapsed. `Política` and `politica` fold alike, so subscribers
 * need not type accents. One definition for routing (sections) and commands (subscriptions).
 */
export function foldTopic(s: string): string {
  return s
    .replace(INVISIBLE, '')
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}
