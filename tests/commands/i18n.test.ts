import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStringsError, MESSAGE_KEYS, fill, loadCommandStrings } from '../../src/commands/i18n.js';

const bundled = resolve(import.meta.dirname, '../../templates/locales');
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'manchete-strings-'));
  temps.push(d);
  return d;
};

describe('command strings', () => {
  it('the bundled files hold every key in both languages with the same placeholders', () => {
    const strings = loadCommandStrings(bundled);
    for (const key of MESSAGE_KEYS) {
      expect(strings['pt-BR'][key].length, key).toBeGreaterThan(0);
      expect(placeholders(strings.en[key]), key).toEqual(placeholders(strings['pt-BR'][key]));
    }
  });

  it('an operator folder may override only some strings; the rest come from the next folder', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'commands.pt-BR.json'), JSON.stringify({ pointer: 'Oi! Veja /ajuda.' }));
    const strings = loadCommandStrings([dir, bundled]);
    expect(strings['pt-BR'].pointer).toBe('Oi! Veja /ajuda.');
    expect(strings['pt-BR']['help.subscriber']).toContain('/assinar');
    expect(strings.en.pointer).toContain('/help');
  });

  it('fails naming the file and the missing key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'commands.pt-BR.json'), JSON.stringify({ pointer: 'x' }));
    writeFileSync(join(dir, 'commands.en.json'), JSON.stringify({ pointer: 'x' }));
    expect(() => loadCommandStrings(dir)).toThrow(CommandStringsError);
    expect(() => loadCommandStrings(dir)).toThrow(/commands\.pt-BR\.json.*missing "welcome"/);
  });

  it('fails on broken JSON and on non-string values', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'commands.pt-BR.json'), '{ "pointer": ');
    expect(() => loadCommandStrings([dir, bundled])).toThrow(/not valid JSON/);
    writeFileSync(join(dir, 'commands.pt-BR.json'), JSON.stringify({ pointer: 3 }));
    expect(() => loadCommandStrings([dir, bundled])).toThrow(/"pointer" must be a string/);
  });

  it('fails when no folder has the files', () => {
    expect(() => loadCommandStrings(tempDir())).toThrow(CommandStringsError);
  });

  it('fill replaces known placeholders and leaves unknown ones visible', () => {
    expect(fill('{a} e {b} e {c}', { a: 1, b: 'x' })).toBe('1 e x e {c}');
  });
});
