/**
 * Folds a topic or section name for comparison: lower case, accents removed, inner spaces collapsed.
 * `Política` and `politica` fold alike, so subscribers need not type accents.
 */
export function foldTopic(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ')
    .trim();
}
