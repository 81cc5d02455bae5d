import type { Article } from '../articles/article.js';
import type { AlertSubscriber } from '../store/subscribers.js';
import { fieldsHavePhrase, keywordFields, tokens } from './filters.js';

/**
 * Keyword alerts of private subscribers (`/alerta`), matched like the destinations' `keywords` filters
 * (delivery/filters.ts): whole words in the title, the lead and the tags, without accents or case, several
 * words as a phrase. No regular expression is built from what subscribers type.
 *
 * Matching stays cheap with many subscribers: the alerts of a platform are loaded in one query and indexed
 * by their first word, so an article looks up only the alerts that start with one of its own words.
 */

/** An alert as subscribers type it, folded for storage and comparison: `  Câmara  dos Deputados ` → `camara dos deputados`. */
export function foldAlert(phrase: string): string {
  return tokens(phrase).join(' ');
}

export class AlertIndex {
  private readonly byFirst = new Map<string, { words: string[]; subscriber: AlertSubscriber }[]>();

  constructor(alerts: readonly AlertSubscriber[]) {
    for (const a of alerts) {
      const words = a.folded.split(' ').filter(Boolean);
      if (words.length === 0) continue;
      const list = this.byFirst.get(words[0]!) ?? [];
      list.push({ words, subscriber: a });
      this.byFirst.set(words[0]!, list);
    }
  }

  get size(): number {
    return this.byFirst.size;
  }

  /** The subscribers with at least one alert the article matches, each once, in id order. */
  match(article: Article): AlertSubscriber[] {
    if (this.byFirst.size === 0) return [];
    const fields = keywordFields(article);
    const out = new Map<string, AlertSubscriber>();
    const seenWords = new Set<string>();
    for (const field of fields) {
      for (const word of field) {
        if (seenWords.has(word)) continue;
        seenWords.add(word);
        for (const c of this.byFirst.get(word) ?? []) {
          if (out.has(c.subscriber.id)) continue;
          if (c.words.length === 1 || fieldsHavePhrase(fields, c.words)) out.set(c.subscriber.id, c.subscriber);
        }
      }
    }
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
