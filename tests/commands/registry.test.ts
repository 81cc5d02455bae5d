import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import type { CommandSpec } from '../../src/commands/context.js';
import { loadCommandStrings } from '../../src/commands/i18n.js';
import { COMMANDS, CommandRegistryError, createRegistry, namesOf } from '../../src/commands/registry.js';
import { foldTopic, parseCommand } from '../../src/commands/text.js';

const strings = loadCommandStrings(resolve(import.meta.dirname, '../../templates/locales'));

describe('command registry', () => {
  it('every declared command has a name in both languages, already in folded form', () => {
    expect(COMMANDS.length).toBeGreaterThan(0);
    for (const c of COMMANDS) {
      for (const name of [c.names['pt-BR'], c.names.en]) {
        expect(name, c.id).not.toBe('');
        // What a user types arrives folded; a declared name that is not would never match.
        expect(foldTopic(name), c.id).toBe(name);
        expect(parseCommand(`/${name}`)?.name, c.id).toBe(name);
      }
    }
  });

  it('every subscriber command has a menu line, and no editor command shows in the menu', () => {
    for (const c of COMMANDS) {
      if (c.access === 'subscriber') expect(c.menu, c.id).not.toBeNull();
      else expect(c.menu, c.id).toBeNull();
      if (c.access === 'editor') expect(c.privateOnly, c.id).toBe(true);
    }
  });

  it('the alias table, the menu and the access check come from the same declarations', () => {
    const r = createRegistry();
    // Aliases: exactly the declared names, each to its own command.
    const declared = COMMANDS.flatMap((c) => namesOf(c).map((n) => [n, c.id] as const));
    expect([...r.aliases].map(([n, c]) => [n, c.id])).toEqual(declared);
    for (const [name, id] of declared) expect(r.lookup(name)?.id).toBe(id);
    expect(r.lookup('nonsense')).toBeUndefined();
    // Menu: the subscriber commands in declaration order, under each language's name, with its text.
    for (const locale of ['pt-BR', 'en'] as const) {
      const subs = COMMANDS.filter((c) => c.access === 'subscriber');
      expect(r.menu(locale, strings)).toEqual(subs.map((c) => ({ command: c.names[locale], description: strings[locale][c.menu!] })));
      for (const m of r.menu(locale, strings)) expect(r.lookup(m.command)?.access).toBe('subscriber');
    }
    // Access: from each declaration's access and privateOnly.
    for (const c of COMMANDS) {
      expect(r.access(c, { editorId: '42', isPrivate: true }), c.id).toBeNull();
      expect(r.access(c, { editorId: null, isPrivate: true }), c.id).toBe(c.access === 'editor' ? 'not_editor' : null);
      expect(r.access(c, { editorId: '42', isPrivate: false }), c.id).toBe(c.privateOnly ? 'not_private' : null);
      expect(r.access(c, { editorId: null, isPrivate: false }), c.id).toBe(
        c.access === 'editor' ? 'not_editor' : c.privateOnly ? 'not_private' : null,
      );
    }
  });

  it('a new declaration appears in the aliases, the menu and the access check at once', () => {
    const extra: CommandSpec = {
      id: 'weather',
      names: { 'pt-BR': 'tempo', en: 'weather', aliases: ['clima'] },
      access: 'subscriber',
      privateOnly: true,
      menu: 'menu.help',
      run: () => [],
    };
    const r = createRegistry([...COMMANDS, extra]);
    expect(r.lookup('tempo')).toBe(extra);
    expect(r.lookup('clima')).toBe(extra);
    expect(r.menu('pt-BR', strings).at(-1)).toEqual({ command: 'tempo', description: strings['pt-BR']['menu.help'] });
    expect(r.menu('en', strings).at(-1)?.command).toBe('weather');
    expect(r.access(extra, { editorId: null, isPrivate: false })).toBe('not_private');
  });

  it('refuses two declarations claiming one word or one id', () => {
    const clash: CommandSpec = { ...COMMANDS[0]!, id: 'other', names: { 'pt-BR': 'outro', en: COMMANDS[1]!.names.en } };
    expect(() => createRegistry([...COMMANDS, clash])).toThrow(CommandRegistryError);
    expect(() => createRegistry([...COMMANDS, clash])).toThrow(`"/${COMMANDS[1]!.names.en}" is claimed by both`);
    expect(() => createRegistry([...COMMANDS, { ...COMMANDS[0]!, names: { 'pt-BR': 'x1', en: 'x2' } }])).toThrow('declared twice');
  });
});
