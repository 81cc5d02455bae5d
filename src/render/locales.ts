import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TemplateError } from './engine.js';

/**
 * Locale strings for templates (`it.t`): flat JSON objects of string values in
 * `<templatesDir>/locales/<locale>.json`. English is the fallback, key by key, so a locale file that
 * lacks a newer key still renders. Files are read once per loader.
 */

/** One locale's strings, already merged over the English fallback. */
export type LocaleStrings = Readonly<Record<string, string>>;

/** The locale used when another one lacks a key. */
export const FALLBACK_LOCALE = 'en';

const LOCALE_RE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

/** Loads and caches locale files from one templates folder. */
export interface LocaleLoader {
  /** The strings of `locale` with English fallback per key. Throws TemplateError for a bad or missing file. */
  get(locale: string): LocaleStrings;
}

function readLocaleFile(file: string, locale: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TemplateError(
      `locales/${locale}`,
      file,
      code === 'ENOENT'
        ? `locale file for "${locale}" not found: looked for ${file}; add it (copy locales/en.json) or use pt-BR or en`
        : `locale file ${file} cannot be read (${code ?? String(err)})`,
      { cause: err },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new TemplateError(`locales/${locale}`, file, `locale file ${file} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new TemplateError(`locales/${locale}`, file, `locale file ${file} must hold one JSON object of "key": "text" pairs`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') {
      throw new TemplateError(`locales/${locale}`, file, `locale file ${file}: "${key}" must be a string, found ${typeof value}`);
    }
    out[key] = value;
  }
  return out;
}

/** Creates a loader for `<templatesDir>/locales`. Nothing is read until `get` is called. */
export function createLocaleLoader(templatesDir: string): LocaleLoader {
  const dir = path.resolve(templatesDir, 'locales');
  const merged = new Map<string, LocaleStrings>();
  let fallback: Record<string, string> | undefined;

  return {
    get(locale) {
      const hit = merged.get(locale);
      if (hit) return hit;
      if (!LOCALE_RE.test(locale)) {
        throw new TemplateError(`locales/${locale}`, dir, `locale "${locale}" is not a locale tag; use pt-BR or en`);
      }
      fallback ??= readLocaleFile(path.join(dir, `${FALLBACK_LOCALE}.json`), FALLBACK_LOCALE);
      const own = locale === FALLBACK_LOCALE ? fallback : readLocaleFile(path.join(dir, `${locale}.json`), locale);
      const strings = Object.freeze({ ...fallback, ...own });
      merged.set(locale, strings);
      return strings;
    },
  };
}

/**
 * Fills `{name}` placeholders from `vars` (`format('{n} notícias', { n: 3 })`). Unknown placeholders
 * are left as they are, so a typo shows in the message instead of vanishing.
 */
export function formatString(template: string, vars: Record<string, unknown> = {}): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, key: string) =>
    Object.hasOwn(vars, key) && vars[key] !== undefined && vars[key] !== null ? String(vars[key]) : whole,
  );
}
