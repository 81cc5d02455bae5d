import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The module graph of `src/`, read from the sources: every static `import … from`, `export … from` and
 * `import('…')`, type-only ones included (a type cycle is still two modules that cannot be understood
 * apart). The rules are the folders' promises in docs/architecture.md.
 */

const SRC = resolve(__dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Specifiers a file imports: static imports and re-exports, and dynamic `import()` with a string literal. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  // Comments would otherwise count: a doc comment quoting `import x from 'y'` is not an import.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of code.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

interface Graph {
  /** src-relative path → src-relative paths it imports (local modules only). */
  local: Map<string, string[]>;
  /** src-relative path → package specifiers it imports. */
  packages: Map<string, string[]>;
}

function readGraph(): Graph {
  const local = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file).split('\\').join('/');
    const specs = importsOf(readFileSync(file, 'utf8'));
    local.set(
      rel,
      specs
        .filter((s) => s.startsWith('.'))
        .map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts'))).split('\\').join('/')),
    );
    packages.set(rel, specs.filter((s) => !s.startsWith('.') && !s.startsWith('node:')));
  }
  return { local, packages };
}

/** Every cycle, each as the path that closes it (Tarjan's strongly connected components of size > 1 or self-loops). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('module graph of src/', () => {
  const graph = readGraph();

  it('reads the imports it is meant to (static, re-export, dynamic; not comments)', () => {
    expect(importsOf("import { a } from './a.js';\nimport type { B } from '../b.js';\nexport { c } from './c.js';\nconst m = await import('./d.js');\n// import x from './no.js'\n/* import y from './no2.js' */\nimport './side.js';"))
      .toEqual(['./a.js', '../b.js', './c.js', './side.js', './d.js']);
    expect(graph.local.get('cli.ts')).toContain('main.ts');
    expect(graph.local.size).toBeGreaterThan(50);
  });

  it('has no import cycle', () => {
    expect(cycles(graph.local)).toEqual([]);
    // The check itself finds a cycle when there is one.
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('main.ts, the composition root, is imported by cli.ts alone', () => {
    const importers = [...graph.local].filter(([, deps]) => deps.includes('main.ts')).map(([f]) => f);
    expect(importers).toEqual(['cli.ts']);
  });

  it('the program root holds only the entry points and the process-wide settings', () => {
    const atRoot = [...graph.local.keys()].filter((f) => !f.includes('/')).sort();
    expect(atRoot).toEqual(['cli.ts', 'config.ts', 'log.ts', 'main.ts', 'paths.ts']);
  });

  it('telegraf is imported only under platforms/telegram/, Baileys only under platforms/whatsapp/', () => {
    const misplaced: string[] = [];
    for (const [file, pkgs] of graph.packages) {
      for (const p of pkgs) {
        if ((p === 'telegraf' || p.startsWith('telegraf/')) && !file.startsWith('platforms/telegram/')) misplaced.push(`${file} → ${p}`);
        if ((p.includes('baileys') || p.startsWith('@whiskeysockets/')) && !file.startsWith('platforms/whatsapp/')) misplaced.push(`${file} → ${p}`);
      }
    }
    expect(misplaced).toEqual([]);
    // The rule sees the real imports: the platforms do import their libraries.
    expect([...graph.packages].some(([f, p]) => f.startsWith('platforms/telegram/') && p.includes('telegraf'))).toBe(true);
    expect([...graph.packages].some(([f, p]) => f.startsWith('platforms/whatsapp/') && p.some((x) => x.includes('baileys')))).toBe(true);
  });

  it('no file under platforms/ imports the composition root', () => {
    const offenders = [...graph.local].filter(([f, deps]) => f.startsWith('platforms/') && deps.includes('main.ts')).map(([f]) => f);
    expect(offenders).toEqual([]);
  });
});
