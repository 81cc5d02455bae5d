import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Eta, type TemplateFunction } from 'eta';
import { escapeHtml, escapeWhatsApp, plainText } from './escape.js';
import type { Platform } from './types.js';

/**
 * The template engine: one Eta instance per output format, each with its own escaping, so a value
 * written with `<%= %>` is always safe for the format its template produces (Telegram HTML or
 * WhatsApp markup). Templates live in `<templatesDir>/<format>/<name>.eta`; each file is read and
 * compiled once, then served from memory.
 */

/** The output formats: the two platforms, plus plain text (escaping only cleans). */
export type OutputFormat = Platform | 'plain';

/** A template that is missing, does not compile, or fails while rendering. Names the file and what to do. */
export class TemplateError extends Error {
  constructor(
    /** `<format>/<name>`, e.g. `telegram/article`. */
    readonly template: string,
    /** Absolute path of the file involved. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TemplateError';
  }
}

/** Renders the templates of one output format. */
export interface TemplateEngine {
  readonly format: OutputFormat;
  /** The folder this engine reads: `<templatesDir>/<format>`. */
  readonly dir: string;
  /** Renders `<dir>/<name>.eta` with `it` = data. Throws TemplateError. */
  render(name: string, data: object): string;
  /** Reads and compiles a template now (to fail at start rather than at the first article). Throws TemplateError. */
  load(name: string): void;
  /** True when `<dir>/<name>.eta` exists and compiles. */
  has(name: string): boolean;
}

const ESCAPERS: Record<OutputFormat, (value: unknown) => string> = {
  telegram: escapeHtml,
  whatsapp: escapeWhatsApp,
  plain: plainText,
};

const NAME_RE = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;

function etaConfig(dir: string, format: OutputFormat, debug: boolean): ConstructorParameters<typeof Eta>[0] {
  return {
    views: dir,
    cache: true,
    autoTrim: false,
    autoEscape: true,
    escapeFunction: ESCAPERS[format],
    defaultExtension: '.eta',
    debug,
  };
}

/**
 * Creates the engine for one format. `templatesDir` is the operator's TEMPLATES_DIR, already resolved
 * by the caller (from process.cwd()); nothing is read until a template is first used.
 */
export function createTemplateEngine(opts: { templatesDir: string; format: OutputFormat }): TemplateEngine {
  const { format } = opts;
  const dir = path.resolve(opts.templatesDir, format);
  const eta = new Eta(etaConfig(dir, format, false));
  const compiled = new Map<string, { fn: TemplateFunction; file: string }>();

  const label = (name: string) => `${format}/${name}`;

  function fileOf(name: string): string {
    if (!NAME_RE.test(name)) {
      throw new TemplateError(
        label(name),
        dir,
        `template name "${name}" is not valid: use letters, digits, "-", "_" and "/" (e.g. "article" or "digest")`,
      );
    }
    return path.join(dir, `${name}.eta`);
  }

  function compile(name: string): { fn: TemplateFunction; file: string } {
    const hit = compiled.get(name);
    if (hit) return hit;
    const file = fileOf(name);
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const what = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(err)})`;
      throw new TemplateError(
        label(name),
        file,
        `template ${label(name)} ${what}: looked for ${file}; create it or point TEMPLATES_DIR at a folder that has ${format}/${name}.eta`,
        { cause: err },
      );
    }
    let fn: TemplateFunction;
    try {
      fn = eta.compile(source, { filepath: file });
    } catch (err) {
      throw new TemplateError(label(name), file, `template ${file} does not compile: ${firstLines(err)}`, { cause: err });
    }
    const entry = { fn, file };
    compiled.set(name, entry);
    return entry;
  }

  /** Re-runs a failing template in Eta's debug mode to learn the line; only on the error path. */
  function explain(file: string, data: object, original: unknown): string {
    try {
      const debugEta = new Eta(etaConfig(dir, format, true));
      const fn = debugEta.compile(readFileSync(file, 'utf8'), { filepath: file });
      fn.call(debugEta, data, { filepath: file, async: false });
    } catch (err) {
      return firstLines(err, 8);
    }
    return firstLines(original);
  }

  return {
    format,
    dir,
    render(name, data) {
      const { fn, file } = compile(name);
      try {
        return fn.call(eta, data, { filepath: file, async: false });
      } catch (err) {
        throw new TemplateError(label(name), file, `template ${file} failed while rendering: ${explain(file, data, err)}`, {
          cause: err,
        });
      }
    },
    load(name) {
      compile(name);
    },
    has(name) {
      try {
        compile(name);
        return true;
      } catch {
        return false;
      }
    },
  };
}

function firstLines(err: unknown, lines = 3): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').filter((l) => l.trim() !== '').slice(0, lines).join(' | ');
}
