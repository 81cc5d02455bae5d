/**
 * Site boilerplate out of article text: the promotional lines, "follow us"/"subscribe" calls, "Leia
 * também / Relacionados" blocks, photo credits and share boxes that news sites put around (and inside)
 * their stories. Portuguese and English by default; a feed can add its own patterns.
 *
 * It works on plain text (after `htmlToText` or Readability), line by line and sentence by sentence:
 * 1. A heading that opens a list of links ("Leia também", "Veja mais", "Read more") is dropped with
 *    the headline-like lines after it; a closing heading ("Relacionados", "Related", "Mais lidas") in
 *    the second half of the text drops everything from there to the end.
 *    A "Leia também: <headline>" line is dropped whole.
 * 2. Whole-line patterns (`LINE_BOILERPLATE`): photo captions ending with a credit, breadcrumbs,
 *    share boxes, "Foto: …" lines.
 * 3. Every sentence is tested against `DEFAULT_BOILERPLATE` (and the feed's own patterns): a sentence
 *    that matches is dropped, the rest of its paragraph stays.
 * 4. Fragments (`INLINE_BOILERPLATE`) are cut out of what remains: "(Foto: KCNA via REUTERS)",
 *    "Read more »", "The post … appeared first on …".
 * The patterns are anchored at the start of a sentence and name the action ("Assine o…",
 * "Receba as notícias… no WhatsApp"), so a sentence that merely mentions signing ("vão assinar um
 * acordo") or a network ("o Telegram foi bloqueado") stays.
 */
import { collapseWhitespace, normalizeWhitespace } from './text.js';
import { splitSentences } from './summary.js';

/** Optional leading decoration before a promo: emoji, bullets, arrows, dashes. */
const LEAD = String.raw`^[^\p{L}\p{N}(]*`;
/** End of a word, for words that may end in an accented letter (where `\b` does not work). */
const EOW = String.raw`(?![\p{L}\p{N}])`;
const NETWORKS = String.raw`(?:whats\s?app|telegram|instagram|twitter|facebook|tiktok|youtube|threads|bluesky|linkedin|kwai|google\s+(?:news|not[ií]cias)|redes\s+sociais|social\s+media)`;

const re = (source: string) => new RegExp(source, 'iu');

/**
 * A default rule with its trigger words: groups of lowercase literals such that the rule can only
 * match a text whose lowercased form holds at least one word of every group. Most text holds none of
 * them, and testing a dozen words is far cheaper than running the rule (see `triggeredRules`).
 * Each word must be a literal the pattern cannot match without: when editing a pattern, edit its words.
 */
interface DefaultRule {
  pattern: RegExp;
  triggers: readonly (readonly string[])[];
}

const rule = (source: string, ...triggers: string[][]): DefaultRule => ({ pattern: re(source), triggers });

/** Words one of which every NETWORKS alternative contains. */
const NETWORK_WORDS = ['whats', 'telegram', 'instagram', 'twitter', 'facebook', 'tiktok', 'youtube', 'threads', 'bluesky', 'linkedin', 'kwai', 'google', 'sociais', 'social'];

const DEFAULT_RULES: readonly DefaultRule[] = [
  // "✅ Receba as notícias do Brasil 247 … no WhatsApp", "Receba nossa newsletter", "Receba alertas no celular".
  rule(
    `${LEAD}receb(?:a|er|e)${EOW}.{0,200}(?:${NETWORKS}|e-?mail|newsletter|notifica|alertas|celular|canal|comunidade)`,
    ['receb'],
    [...NETWORK_WORDS, 'mail', 'newsletter', 'notifica', 'alertas', 'celular', 'canal', 'comunidade'],
  ),
  // "Entre no canal do X no WhatsApp", "Participe da nossa comunidade", "Junte-se ao grupo", "Faça parte".
  rule(
    `${LEAD}(?:entre|participe|junte-se|fa[çc]a\\s+parte|clique\\s+aqui\\s+e\\s+entre)${EOW}.{0,200}(?:${NETWORKS}|canal|comunidade|grupo)`,
    ['entre', 'participe', 'junte-se', 'parte'],
    [...NETWORK_WORDS, 'canal', 'comunidade', 'grupo'],
  ),
  // "Siga-nos no Instagram", "Siga o 247 no Telegram", "Acompanhe a gente nas redes sociais".
  rule(`${LEAD}(?:siga|sigam|acompanhe)(?:-nos)?${EOW}.{0,120}${NETWORKS}`, ['siga', 'acompanhe'], NETWORK_WORDS),
  // "Assine o 247", "Assine já", "Seja assinante", "Torne-se assinante", "Já é assinante? Faça login".
  rule(`${LEAD}(?:assine|assina\\s+j[áa]|seja\\s+(?:um\\s+)?assinante|torne-se\\s+(?:um\\s+)?assinante|j[áa]\\s+[ée]\\s+assinante)${EOW}`, ['assin']),
  // Login prompts that follow a paywall: "Faça login", "Faça seu login para continuar", "Log in to continue".
  rule(`${LEAD}(?:fa[çc]a\\s+(?:o\\s+|seu\\s+)?login|log\\s*in\\s+to\\s+(?:continue|read))${EOW}`, ['log']),
  // Paywall notices: "Este conteúdo é exclusivo para assinantes", "This article is for subscribers".
  rule(
    `${LEAD}(?:este|esta)\\s+(?:conte[úu]do|mat[ée]ria|reportagem)\\s+[ée]\\s+(?:exclusiv[oa]|restrit[oa])\\s+(?:para|a|de)\\s+assinantes`,
    ['assinantes'],
  ),
  rule(`${LEAD}this\\s+(?:article|content|story)\\s+is\\s+(?:only\\s+)?(?:for|available\\s+to)\\s+subscribers`, ['subscribers']),
  // "Apoie por Pix", "Apoie o jornalismo independente", "Contribua com qualquer valor", "Faça uma doação".
  rule(
    `${LEAD}(?:apoie|contribua|colabore|doe|fa[çc]a\\s+uma\\s+doa[çc][ãa]o|ajude)${EOW}.{0,160}(?:pix|jornalismo|independente|nosso\\s+trabalho|projeto|vaquinha|catarse|apoia\\.se|qualquer\\s+valor|doa[çc][ãa]o)`,
    ['apoie', 'contribua', 'colabore', 'doe', 'doa', 'ajude'],
    ['pix', 'jornalismo', 'independente', 'trabalho', 'projeto', 'vaquinha', 'catarse', 'apoia', 'valor', 'doa'],
  ),
  // "Inscreva-se no canal", "Se inscreva", "Cadastre-se para receber".
  rule(`${LEAD}(?:inscreva-se|se\\s+inscreva|increva-se|cadastre-se|ative\\s+as\\s+notifica[çc][õo]es)${EOW}`, ['inscreva', 'increva', 'cadastre', 'notifica']),
  // Award plugs: "iBest: 247 é o melhor canal de política do Brasil no voto popular", "Vote no 247".
  rule(`${LEAD}(?:ibest|pr[êe]mio\\s+ibest)${EOW}`, ['ibest']),
  rule(`${LEAD}.{0,80}\\bmelhor\\s+(?:canal|site|blog|podcast|perfil)\\b.{0,80}\\b(?:voto\\s+popular|ibest)${EOW}`, ['melhor'], ['voto', 'ibest']),
  // "Subscribe to our newsletter", "Sign up for our daily briefing", "Get our free newsletter".
  rule(
    `${LEAD}(?:subscribe|sign\\s*-?\\s*up|get\\s+our|join\\s+our|register)\\b.{0,160}\\b(?:newsletter|briefing|e-?mail|updates|inbox|channel|podcast|free|${NETWORKS})`,
    ['subscribe', 'sign', 'get', 'join', 'register'],
    ['newsletter', 'briefing', 'mail', 'updates', 'inbox', 'channel', 'podcast', 'free', ...NETWORK_WORDS],
  ),
  // "Subscribe now", "Sign up today" alone.
  rule(`${LEAD}(?:subscribe|sign\\s*-?\\s*up)(?:\\s+(?:now|today|here))?\\s*[.!:]?$`, ['subscribe', 'sign']),
  // "Follow us on X", "Follow The Guardian on Instagram", "Like us on Facebook", "Join us on Telegram".
  rule(`${LEAD}(?:follow|like|join)\\s+(?:us|@\\S+)\\b`, ['follow', 'like', 'join']),
  rule(`${LEAD}(?:follow|join)\\s+.{1,60}?\\s+on\\s+${NETWORKS}`, ['follow', 'join'], NETWORK_WORDS),
  // "Leia também: …", "Veja mais: …", "Saiba mais: …", "Confira também: …" followed by a headline.
  rule(
    `${LEAD}(?:leia|veja|confira|ou[çc]a|assista|saiba)\\s+(?:tamb[ée]m|mais|ainda)\\s*[:\\-–—»›>|]\\s*\\S`,
    ['leia', 'veja', 'confira', 'ouça', 'ouca', 'assista', 'saiba'],
    ['tamb', 'mais', 'ainda'],
  ),
  // "Read more: …", "See also: …", "Related: …", "Also read: …", "More on this: …".
  rule(
    `${LEAD}(?:read\\s+(?:more|also|next)|see\\s+also|also\\s+read|related|more\\s+on\\s+this(?:\\s+story)?)\\s*[:\\-–—»›>|]\\s*\\S`,
    ['read', 'see', 'related', 'more'],
  ),
  // "Continue reading", "Continue lendo", "Leia a íntegra", "Leia a matéria completa", "Clique aqui para ler".
  rule(
    `${LEAD}(?:continue\\s+(?:reading|lendo|a\\s+ler)|read\\s+(?:the\\s+)?(?:full|rest|whole)\\b|leia\\s+(?:a\\s+[íi]ntegra|na\\s+[íi]ntegra|a\\s+mat[ée]ria|o\\s+texto|a\\s+reportagem|mais)${EOW}|clique\\s+aqui|click\\s+here)`,
    ['continue', 'read', 'leia', 'clique', 'click'],
  ),
  // WordPress: "The post X appeared first on Site." / "O post X apareceu primeiro em Site."
  rule(`${LEAD}(?:the|o)\\s+post\\b.{1,300}\\b(?:appeared\\s+first\\s+on|apareceu\\s+primeiro\\s+em)\\b`, ['post'], ['appeared', 'apareceu']),
  // Photo credit lines: "Foto: Fulano/Agência Brasil", "Imagem: Reprodução/Instagram", "Photo: AP".
  rule(
    `${LEAD}(?:fotos?|foto\\s+de\\s+capa|imagem|imagens|cr[ée]ditos?|reprodu[çc][ãa]o|photos?|photograph|images?|picture|credits?)\\s*:\\s*\\S.{0,160}$`,
    ['foto', 'imag', 'dito', 'reprodu', 'photo', 'picture', 'credit'],
    [':'],
  ),
  // Agency credits: "(Reportagem de Joyce Lee)", "(Reporting by …; Editing by …)", "(Com informações da Reuters)".
  rule(
    `${LEAD}\\((?:reportagem|reporting|edi[çc][ãa]o|editing|reda[çc][ãa]o|texto|writing|com\\s+informa[çc][õo]es|with\\s+reporting|additional\\s+reporting)\\b[^()]*\\)\\s*\\.?$`,
    ['(report', '(edi', '(reda', '(texto', '(writing', '(com', '(with', '(additional'],
  ),
  // Ads and their markers: "Publicidade", "Continua após a publicidade", "Advertisement".
  rule(
    `${LEAD}(?:publicidade|advertisement|an[úu]ncio|continua\\s+(?:depois|ap[óo]s)\\s+(?:da|a)\\s+publicidade|continues\\s+after\\s+advertis\\w*|story\\s+continues\\s+below)\\s*$`,
    ['publicidade', 'advertis', 'anúncio', 'anuncio', 'continues'],
  ),
];

/**
 * Sentences (or one-sentence lines) that are promotion, not news. A feed's own patterns are added to
 * these (`stripBoilerplate(text, extra)`).
 */
export const DEFAULT_BOILERPLATE: readonly RegExp[] = DEFAULT_RULES.map((r) => r.pattern);

/** Whole lines that are page furniture (tested against the full line, not its sentences). */
export const LINE_BOILERPLATE: readonly RegExp[] = [
  // A photo caption: a line ending with a credit "(Foto: …)" or "| Foto: …" (long lines are paragraphs
  // with a credit inside, handled by INLINE_BOILERPLATE instead).
  re(String.raw`(?:\((?:fotos?|imagem|photo|image|cr[ée]dito|credit|reprodu[çc][ãa]o)\s*:[^()]*\)|[|–—]\s*(?:fotos?|photo|imagem|image)\s*:[^|–—]{1,120})\s*$`),
  // Breadcrumbs: "HOME > Mundo", "Início › Política".
  re(String.raw`^(?:home|in[íi]cio|p[áa]gina\s+inicial)\s*[>›»/|]`),
  // Share boxes: "Compartilhe", "Compartilhar:", "Share this article", "Copiar link", "Imprimir".
  re(String.raw`^[^\p{L}\p{N}]*(?:compartilhe|compartilhar|partilhe|share(?:\s+this)?(?:\s+(?:article|story|post|page))?|tweet|copiar\s+link|copy\s+link|imprimir|print|enviar\s+por\s+e-?mail|email\s+this)(?:\s*(?:on|no|na|em|via|:|\|).{0,60})?$`),
  // A line of network names only: "Facebook Twitter WhatsApp E-mail".
  re(String.raw`^(?:(?:facebook|twitter|x|whats\s?app|telegram|linkedin|e-?mail|pinterest|reddit|bluesky|threads|copiar\s+link|copy\s+link|imprimir|print)\s*[|·•,/]?\s*){2,}$`),
];

/** Lines longer than this are paragraphs, never page furniture. */
const MAX_FURNITURE_LINE = 300;

/** Fragments cut out of a line that otherwise stays. */
export const INLINE_BOILERPLATE: readonly RegExp[] = [
  // Credits in parentheses or brackets: "(Foto: KCNA via REUTERS)", "[Photo: AP]".
  /[([](?:fotos?|imagem|imagens|photos?|images?|cr[ée]ditos?|credits?|reprodu[çc][ãa]o)\s*:[^()[\]]{0,200}[)\]]/giu,
  // "Read more »", "Leia mais…", "Continue reading →", "Saiba mais >" at the end of a line.
  /(?:read\s+more|leia\s+mais|continue\s+(?:reading|lendo)|saiba\s+mais|ver\s+mais|veja\s+mais|more)\s*(?:[»›→>]+|\.{3}|…)\s*$/giu,
  // WordPress footers at the end of a line: "The post X appeared first on Site."
  /(?:The|O)\s+post\s+.{1,300}?\s+(?:appeared\s+first\s+on|apareceu\s+primeiro\s+em)\s+.{1,200}?\.?\s*$/gu,
];

/** A heading that opens a box of links to other stories. */
const BLOCK_HEADING_RE = re(
  String.raw`^[^\p{L}\p{N}]*(?:(?:leia|veja|confira|ou[çc]a|assista)\s+(?:tamb[ée]m|mais|ainda)|saiba\s+mais|mais\s+sobre(?:\s+.{1,40})?|not[íi]cias\s+relacionadas|mat[ée]rias\s+relacionadas|see\s+also|read\s+(?:more|also|next)|also\s+read|more\s+(?:on\s+this(?:\s+story)?|stories|news)|related\s+(?:stories|articles|content|coverage|links|posts|news))\s*[:.]?$`,
);
/** A heading after which a page has only other stories, tags or comments. */
const TAIL_HEADING_RE = re(
  String.raw`^[^\p{L}\p{N}]*(?:relacionad[oa]s?|related|mais\s+(?:lidas?|vistas?|not[íi]cias|acessadas)|[úu]ltimas\s+not[íi]cias|latest\s+news|voc[êe]\s+(?:tamb[ée]m\s+)?pode\s+(?:gostar|se\s+interessar)|you\s+(?:may|might)\s+(?:also\s+)?(?:like|be\s+interested)|most\s+(?:read|popular|viewed)|recomendad[oa]s?(?:\s+para\s+voc[êe])?|recommended(?:\s+for\s+you)?|conte[úu]do\s+patrocinado|sponsored(?:\s+content)?|tags?|t[óo]picos|assuntos|coment[áa]rios|comments)\s*:?$`,
);
/** A line that reads like a linked headline: short, no sentence-final punctuation. */
function isHeadlineLike(line: string): boolean {
  return line.length > 0 && line.length <= 160 && !/[.!?…:]["'”’)]?$/u.test(line);
}
/** How many headline lines a link box may hold. */
const MAX_BOX_LINES = 8;

function matches(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0; // patterns with the g flag keep state between calls
  return pattern.test(text);
}

/** Where the next sentence may start inside a line (looser than `splitSentences`: this only pre-filters). */
const NEXT_START_RE = /[.!?…]["'”’»)\]]*\s+|\s+(?=[\p{Extended_Pictographic}►▶•])/gu;
/** Sites start a promo with an emoji even mid-paragraph ("…governo russo ✅ Receba as notícias…"). */
const DECORATION_START_RE = /\s+(?=[\p{Extended_Pictographic}►▶•])/u;

/**
 * Rules as one sticky regex, tried at each possible sentence start of a line: a cheap test of whether
 * the line needs the per-sentence pass. End anchors are loosened to "before a space" so that a rule
 * meant for a whole sentence also fires on a sentence inside the line.
 */
function prefilter(rules: readonly RegExp[]): RegExp {
  const bodies = rules.map((r) => {
    const body = r.source.startsWith('^') ? r.source.slice(1) : `[^]*?(?:${r.source})`;
    return body.replace(/(?<!\\)\$$/, String.raw`(?=\s|$)`);
  });
  // The shared decoration prefix is matched once, not once per rule.
  const lead = LEAD.slice(1);
  if (bodies.every((b) => b.startsWith(lead))) {
    return new RegExp(`${lead}(?:${bodies.map((b) => `(?:${b.slice(lead.length)})`).join('|')})`, 'iuy');
  }
  return new RegExp(bodies.map((b) => `(?:${b})`).join('|'), 'iuy');
}

// ---------------------------------------------------------------------------------------------------
// Trigger words: which rules can match a line at all

/** Bit of a pseudo-rule for INLINE_BOILERPLATE[0]: credits in brackets need one of its words. */
const BRACKET_CREDIT_BIT = 1 << DEFAULT_RULES.length;
const BRACKET_CREDIT_WORDS = ['foto', 'imag', 'photo', 'cr', 'reprodu'].flatMap((w) => [`(${w}`, `[${w}`]);
const DEFAULT_RULES_MASK = BRACKET_CREDIT_BIT - 1;

interface TriggerTable {
  /** Finds every trigger word in lowercased text (no word is a part of another, so none hides one). */
  re: RegExp;
  /** Word → the rules whose first group holds it [0] and the rules whose second group holds it [1]. */
  bits: Map<string, readonly [number, number]>;
  /** Rules with one group of words only. */
  singleGroup: number;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function buildTriggers(): TriggerTable {
  const groups: { bit: number; group: 0 | 1; words: readonly string[] }[] = [];
  let singleGroup = 0;
  DEFAULT_RULES.forEach((r, i) => {
    if (r.triggers.length === 0 || r.triggers.length > 2) throw new Error(`boilerplate rule ${i} needs one or two groups of trigger words`);
    r.triggers.forEach((words, g) => groups.push({ bit: 1 << i, group: g as 0 | 1, words }));
    if (r.triggers.length === 1) singleGroup |= 1 << i;
  });
  groups.push({ bit: BRACKET_CREDIT_BIT, group: 0, words: BRACKET_CREDIT_WORDS });
  singleGroup |= BRACKET_CREDIT_BIT;
  // A word that contains another is represented by the shorter one (looser, still necessary), so that a
  // scan that resumes one character after each hit finds every word present.
  const words = [...new Set(groups.flatMap((g) => g.words))].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const representative = new Map<string, string>();
  const kept: string[] = [];
  for (const w of words) {
    const inner = kept.find((k) => w.includes(k));
    representative.set(w, inner ?? w);
    if (!inner) kept.push(w);
  }
  const bits = new Map<string, [number, number]>(kept.map((w) => [w, [0, 0]]));
  for (const g of groups) for (const w of g.words) bits.get(representative.get(w)!)![g.group] |= g.bit;
  // U+017F (ſ) matches "s" in a case-insensitive Unicode regex but lowercases to itself: text holding it
  // takes every rule (the only such character for the letters used here).
  bits.set('\u017F', [-1, -1]);
  return { re: new RegExp([...bits.keys()].map(escapeRegExp).join('|'), 'g'), bits, singleGroup };
}

const TRIGGERS = buildTriggers();

/**
 * The rules (bits of DEFAULT_RULES, plus BRACKET_CREDIT_BIT) whose trigger words all occur in `line`:
 * the others cannot match the line or any part of it.
 */
function triggeredRules(line: string): number {
  const lower = line.toLowerCase();
  const re = TRIGGERS.re;
  let first = 0;
  let second = 0;
  re.lastIndex = 0;
  for (let m = re.exec(lower); m; m = re.exec(lower)) {
    const b = TRIGGERS.bits.get(m[0])!;
    first |= b[0];
    second |= b[1];
    re.lastIndex = m.index + 1;
  }
  return first & (second | TRIGGERS.singleGroup);
}

// ---------------------------------------------------------------------------------------------------
// Rule sets and their pre-filters

interface RuleSet {
  /** The rules to test sentences against. */
  rules: readonly RegExp[];
  /** Their pre-filter; null when the rules cannot be combined (then every line takes the per-sentence pass). */
  filter: RegExp | null;
}

/** Distinct rule subsets seen are few; the caches are emptied if they ever grow past this. */
const MAX_RULE_SETS = 512;
const defaultRuleSets = new Map<number, RuleSet>();
/** Per feed rule list: whether its rules combine with the defaults into a pre-filter, and its rule sets. */
const extraRuleSets = new WeakMap<readonly RegExp[], { combinable: boolean; sets: Map<number, RuleSet> }>();

function tryPrefilter(rules: readonly RegExp[]): RegExp | null {
  try {
    return prefilter(rules);
  } catch {
    return null; // a pattern the rewrite cannot handle: always take the per-sentence pass
  }
}

/**
 * The default rules in `mask` plus the feed's own (`extra`), with their pre-filter. A pre-filter of a
 * subset answers as the full one does on a line whose trigger words select that subset, because the
 * rules left out cannot match there.
 */
function ruleSet(mask: number, extra: readonly RegExp[]): RuleSet {
  let sets = defaultRuleSets;
  let combinable = true;
  if (extra.length > 0) {
    let entry = extraRuleSets.get(extra);
    if (!entry) {
      entry = { combinable: tryPrefilter([...DEFAULT_BOILERPLATE, ...extra]) !== null, sets: new Map() };
      extraRuleSets.set(extra, entry);
    }
    sets = entry.sets;
    combinable = entry.combinable;
  }
  let set = sets.get(mask);
  if (!set) {
    const rules = [...DEFAULT_RULES.filter((_, i) => mask & (1 << i)).map((r) => r.pattern), ...extra];
    set = { rules, filter: combinable ? tryPrefilter(rules) : null };
    if (sets.size >= MAX_RULE_SETS) sets.clear();
    sets.set(mask, set);
  }
  return set;
}

/** Whether any rule may match at a sentence start of `line`. */
function mayMatch(line: string, filter: RegExp | null): boolean {
  if (!filter) return true;
  filter.lastIndex = 0;
  if (filter.test(line)) return true;
  NEXT_START_RE.lastIndex = 0;
  for (let m = NEXT_START_RE.exec(line); m; m = NEXT_START_RE.exec(line)) {
    filter.lastIndex = m.index + m[0].length;
    if (filter.test(line)) return true;
  }
  return false;
}

function dropSentences(line: string, rules: readonly RegExp[]): string {
  const sentences = line.split(DECORATION_START_RE).flatMap((part) => splitSentences(part));
  if (sentences.length <= 1) return rules.some((r) => matches(r, line)) ? '' : line;
  const kept = sentences.filter((s) => !rules.some((r) => matches(r, s)));
  return kept.length === sentences.length ? line : kept.join(' ');
}

/** End-anchored fragments are looked for in this many last characters of a line only. */
const TAIL_WINDOW = 640;

function cutFragment(text: string, pattern: RegExp): string {
  pattern.lastIndex = 0;
  if (text.length > TAIL_WINDOW && pattern.source.endsWith('$')) {
    return text.slice(0, -TAIL_WINDOW) + text.slice(-TAIL_WINDOW).replace(pattern, '');
  }
  return text.replace(pattern, '');
}

/** Whether `text` ends (before trailing whitespace) as a "read more" marker must: », ›, →, >, … or "...". */
function endsWithMoreMarker(text: string): boolean {
  const t = text.trimEnd(); // trims exactly what `\s` matches
  const c = t.charCodeAt(t.length - 1);
  if (c === 0xbb || c === 0x203a || c === 0x2192 || c === 0x3e || c === 0x2026) return true;
  return c === 0x2e && t.charCodeAt(t.length - 2) === 0x2e && t.charCodeAt(t.length - 3) === 0x2e;
}

/**
 * INLINE_BOILERPLATE in order, each skipped when the text lacks what the pattern cannot match without:
 * a bracketed credit word (from `triggered`, the bits of the line `line` came from), an end marker, or
 * the words of the WordPress footer (whose pattern is case-sensitive).
 */
function cutInline(line: string, triggered: number): string {
  const [credits, readMore, footer] = INLINE_BOILERPLATE as [RegExp, RegExp, RegExp];
  let out = line;
  if (triggered & BRACKET_CREDIT_BIT) out = cutFragment(out, credits);
  if (endsWithMoreMarker(out)) out = cutFragment(out, readMore);
  if (out.includes('post') && (out.includes('appeared') || out.includes('apareceu'))) out = cutFragment(out, footer);
  return out === line ? line : collapseWhitespace(out);
}

/**
 * Removes site boilerplate from plain text (see the module comment for the steps) and returns the text
 * with whitespace normalised and paragraphs kept. `extra` holds a feed's own patterns: each is tested
 * against every line and every sentence, and a match anywhere drops that sentence (anchor a pattern
 * with `^` to match only at the start). Text with nothing to remove comes back unchanged apart from
 * whitespace.
 */
export function stripBoilerplate(text: string, extra: readonly RegExp[] = []): string {
  const normalized = normalizeWhitespace(text);
  if (!normalized) return '';
  const lines = normalized.split('\n');
  const out: string[] = [];
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineStart = offset;
    offset += line.length + 1;
    if (!line) {
      out.push('');
      continue;
    }
    const isTail = TAIL_HEADING_RE.test(line);
    if (isTail && lineStart >= normalized.length / 2) break;
    if (isTail || BLOCK_HEADING_RE.test(line)) {
      let skipped = 0;
      while (skipped < MAX_BOX_LINES && i + 1 < lines.length) {
        const next = lines[i + 1]!;
        if (next && !isHeadlineLike(next)) break;
        if (next) skipped++;
        offset += next.length + 1;
        i++;
      }
      continue;
    }
    if (line.length <= MAX_FURNITURE_LINE && LINE_BOILERPLATE.some((r) => matches(r, line))) continue;
    const triggered = triggeredRules(line);
    const mask = triggered & DEFAULT_RULES_MASK;
    let kept = line;
    if (mask !== 0 || extra.length > 0) {
      const set = ruleSet(mask, extra);
      if (mayMatch(line, set.filter)) kept = dropSentences(line, set.rules);
    }
    kept = cutInline(kept, triggered);
    if (kept) out.push(kept);
  }
  return normalizeWhitespace(out.join('\n'));
}
