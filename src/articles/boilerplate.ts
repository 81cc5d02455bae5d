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
 * Sentences (or one-sentence lines) that are promotion, not news. A feed's own patterns are added to
 * these (`stripBoilerplate(text, extra)`).
 */
export const DEFAULT_BOILERPLATE: readonly RegExp[] = [
  // "✅ Receba as notícias do Brasil 247 … no WhatsApp", "Receba nossa newsletter", "Receba alertas no celular".
  re(`${LEAD}receb(?:a|er|e)${EOW}.{0,200}(?:${NETWORKS}|e-?mail|newsletter|notifica|alertas|celular|canal|comunidade)`),
  // "Entre no canal do X no WhatsApp", "Participe da nossa comunidade", "Junte-se ao grupo", "Faça parte".
  re(`${LEAD}(?:entre|participe|junte-se|fa[çc]a\\s+parte|clique\\s+aqui\\s+e\\s+entre)${EOW}.{0,200}(?:${NETWORKS}|canal|comunidade|grupo)`),
  // "Siga-nos no Instagram", "Siga o 247 no Telegram", "Acompanhe a gente nas redes sociais".
  re(`${LEAD}(?:siga|sigam|acompanhe)(?:-nos)?${EOW}.{0,120}${NETWORKS}`),
  // "Assine o 247", "Assine já", "Seja assinante", "Torne-se assinante", "Já é assinante? Faça login".
  re(`${LEAD}(?:assine|assina\\s+j[áa]|seja\\s+(?:um\\s+)?assinante|torne-se\\s+(?:um\\s+)?assinante|j[áa]\\s+[ée]\\s+assinante)${EOW}`),
  // Login prompts that follow a paywall: "Faça login", "Faça seu login para continuar", "Log in to continue".
  re(`${LEAD}(?:fa[çc]a\\s+(?:o\\s+|seu\\s+)?login|log\\s*in\\s+to\\s+(?:continue|read))${EOW}`),
  // Paywall notices: "Este conteúdo é exclusivo para assinantes", "This article is for subscribers".
  re(`${LEAD}(?:este|esta)\\s+(?:conte[úu]do|mat[ée]ria|reportagem)\\s+[ée]\\s+(?:exclusiv[oa]|restrit[oa])\\s+(?:para|a|de)\\s+assinantes`),
  re(`${LEAD}this\\s+(?:article|content|story)\\s+is\\s+(?:only\\s+)?(?:for|available\\s+to)\\s+subscribers`),
  // "Apoie por Pix", "Apoie o jornalismo independente", "Contribua com qualquer valor", "Faça uma doação".
  re(`${LEAD}(?:apoie|contribua|colabore|doe|fa[çc]a\\s+uma\\s+doa[çc][ãa]o|ajude)${EOW}.{0,160}(?:pix|jornalismo|independente|nosso\\s+trabalho|projeto|vaquinha|catarse|apoia\\.se|qualquer\\s+valor|doa[çc][ãa]o)`),
  // "Inscreva-se no canal", "Se inscreva", "Cadastre-se para receber".
  re(`${LEAD}(?:inscreva-se|se\\s+inscreva|increva-se|cadastre-se|ative\\s+as\\s+notifica[çc][õo]es)${EOW}`),
  // Award plugs: "iBest: 247 é o melhor canal de política do Brasil no voto popular", "Vote no 247".
  re(`${LEAD}(?:ibest|pr[êe]mio\\s+ibest)${EOW}`),
  re(`${LEAD}.{0,80}\\bmelhor\\s+(?:canal|site|blog|podcast|perfil)\\b.{0,80}\\b(?:voto\\s+popular|ibest)${EOW}`),
  // "Subscribe to our newsletter", "Sign up for our daily briefing", "Get our free newsletter".
  re(`${LEAD}(?:subscribe|sign\\s*-?\\s*up|get\\s+our|join\\s+our|register)\\b.{0,160}\\b(?:newsletter|briefing|e-?mail|updates|inbox|channel|podcast|free|${NETWORKS})`),
  // "Subscribe now", "Sign up today" alone.
  re(`${LEAD}(?:subscribe|sign\\s*-?\\s*up)(?:\\s+(?:now|today|here))?\\s*[.!:]?$`),
  // "Follow us on X", "Follow The Guardian on Instagram", "Like us on Facebook", "Join us on Telegram".
  re(`${LEAD}(?:follow|like|join)\\s+(?:us|@\\S+)\\b`),
  re(`${LEAD}(?:follow|join)\\s+.{1,60}?\\s+on\\s+${NETWORKS}`),
  // "Leia também: …", "Veja mais: …", "Saiba mais: …", "Confira também: …" followed by a headline.
  re(`${LEAD}(?:leia|veja|confira|ou[çc]a|assista|saiba)\\s+(?:tamb[ée]m|mais|ainda)\\s*[:\\-–—»›>|]\\s*\\S`),
  // "Read more: …", "See also: …", "Related: …", "Also read: …", "More on this: …".
  re(`${LEAD}(?:read\\s+(?:more|also|next)|see\\s+also|also\\s+read|related|more\\s+on\\s+this(?:\\s+story)?)\\s*[:\\-–—»›>|]\\s*\\S`),
  // "Continue reading", "Continue lendo", "Leia a íntegra", "Leia a matéria completa", "Clique aqui para ler".
  re(`${LEAD}(?:continue\\s+(?:reading|lendo|a\\s+ler)|read\\s+(?:the\\s+)?(?:full|rest|whole)\\b|leia\\s+(?:a\\s+[íi]ntegra|na\\s+[íi]ntegra|a\\s+mat[ée]ria|o\\s+texto|a\\s+reportagem|mais)${EOW}|clique\\s+aqui|click\\s+here)`),
  // WordPress: "The post X appeared first on Site." / "O post X apareceu primeiro em Site."
  re(`${LEAD}(?:the|o)\\s+post\\b.{1,300}\\b(?:appeared\\s+first\\s+on|apareceu\\s+primeiro\\s+em)\\b`),
  // Photo credit lines: "Foto: Fulano/Agência Brasil", "Imagem: Reprodução/Instagram", "Photo: AP".
  re(`${LEAD}(?:fotos?|foto\\s+de\\s+capa|imagem|imagens|cr[ée]ditos?|reprodu[çc][ãa]o|photos?|photograph|images?|picture|credits?)\\s*:\\s*\\S.{0,160}$`),
  // Agency credits: "(Reportagem de Joyce Lee)", "(Reporting by …; Editing by …)", "(Com informações da Reuters)".
  re(`${LEAD}\\((?:reportagem|reporting|edi[çc][ãa]o|editing|reda[çc][ãa]o|texto|writing|com\\s+informa[çc][õo]es|with\\s+reporting|additional\\s+reporting)\\b[^()]*\\)\\s*\\.?$`),
  // Ads and their markers: "Publicidade", "Continua após a publicidade", "Advertisement".
  re(`${LEAD}(?:publicidade|advertisement|an[úu]ncio|continua\\s+(?:depois|ap[óo]s)\\s+(?:da|a)\\s+publicidade|continues\\s+after\\s+advertis\\w*|story\\s+continues\\s+below)\\s*$`),
];

/** Whole lines that are page furniture (tested against the full line, not its sentences). */
export const LINE_BOILERPLATE: readonly RegExp[] = [
  // A photo caption: a line ending with a credit "(Foto: …)" or "| Foto: …" (long lines are paragraphs
  // with a credit inside, handled by INLINE_BOILERPLATE instead). Needs a colon: see isFurniture.
  re(String.raw`(?:\((?:fotos?|imagem|photo|image|cr[ée]dito|credit|reprodu[çc][ãa]o)\s*:[^()]*\)|[|–—]\s*(?:fotos?|photo|imagem|image)\s*:[^|–—]{1,120})\s*$`),
  // Breadcrumbs: "HOME > Mundo", "Início › Política".
  re(String.raw`^(?:home|in[íi]cio|p[áa]gina\s+inicial)\s*[>›»/|]`),
  // Share boxes: "Compartilhe", "Compartilhar:", "Share this article", "Copiar link", "Imprimir".
  re(String.raw`^[^\p{L}\p{N}]*(?:compartilhe|compartilhar|partilhe|share(?:\s+this)?(?:\s+(?:article|story|post|page))?|tweet|copiar\s+link|copy\s+link|imprimir|print|enviar\s+por\s+e-?mail|email\s+this)(?:\s*(?:on|no|na|em|via|:|\|).{0,60})?$`),
  // A line of network names only: "Facebook Twitter WhatsApp E-mail".
  re(String.raw`^(?:(?:facebook|twitter|x|whats\s?app|telegram|linkedin|e-?mail|pinterest|reddit|bluesky|threads|copiar\s+link|copy\s+link|imprimir|print)\s*[|·•,/]?\s*){2,}$`),
];

/**
 * Whether `line` matches a LINE_BOILERPLATE pattern. The caption pattern (the first) cannot match a line
 * without a colon, and it is the one that scans the whole line: such lines skip it.
 */
function isFurniture(line: string): boolean {
  for (let i = 0; i < LINE_BOILERPLATE.length; i++) {
    if (i === 0 && !line.includes(':')) continue;
    if (matches(LINE_BOILERPLATE[i]!, line)) return true;
  }
  return false;
}

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
/** NEXT_START_RE for lines without decoration (see MAYBE_DECORATION_RE): the same starts, found faster. */
const PUNCTUATION_START_RE = /[.!?…]["'”’»)\]]*\s+/gu;
/**
 * Whitespace followed by a character of a superset of `[\p{Extended_Pictographic}►▶•]` (its code points
 * in the BMP, and the high surrogates of those beyond): a line without one has no decoration start, and
 * testing these ranges costs much less than testing the Unicode property after every space.
 */
const MAYBE_DECORATION_RE = /\s[\u00A9\u00AE\u2022\u203C\u2049\u2122-\u2BFF\u3030\u303D\u3297\u3299\uD83C-\uD83F]/;
/** Sites start a promo with an emoji even mid-paragraph ("…governo russo ✅ Receba as notícias…"). */
const DECORATION_START_RE = /\s+(?=[\p{Extended_Pictographic}►▶•])/u;

/**
 * Rules as one sticky regex, tried at each possible sentence start of a line: a cheap test of whether
 * the line needs the per-sentence pass. End anchors are loosened to "before a space" so that a rule
 * meant for a whole sentence also fires on a sentence inside the line.
 */
function prefilter(rules: readonly RegExp[], capture = false): RegExp {
  const bodies = rules.map((r) => {
    const body = r.source.startsWith('^') ? r.source.slice(1) : `[^]*?(?:${r.source})`;
    return body.replace(/(?<!\\)\$$/, String.raw`(?=\s|$)`);
  });
  // With `capture`, each rule is a group of its own, so a match tells which rule it came from.
  const group = capture ? '(' : '(?:';
  // The shared decoration prefix is matched once, not once per rule.
  const lead = LEAD.slice(1);
  if (bodies.every((b) => b.startsWith(lead))) {
    return new RegExp(`${lead}(?:${bodies.map((b) => `${group}${b.slice(lead.length)})`).join('|')})`, 'iuy');
  }
  return new RegExp(bodies.map((b) => `${group}${b})`).join('|'), 'iuy');
}

/**
 * The one default rule that does not start with a fixed word ("… o melhor canal … no voto popular"):
 * in a pre-filter it scans ahead at every sentence start, which costs more than all the other rules
 * together. Lines without the word it needs ("melhor") use a pre-filter without it.
 */
const MELHOR_RULE = DEFAULT_BOILERPLATE.findIndex((r) => r.source.includes('\\bmelhor'));
const MELHOR_RE = /melhor/i;

/** The rules to test a line against and their pre-filter (null: every line takes the per-sentence pass). */
interface RuleSet {
  rules: readonly RegExp[];
  filter: RegExp | null;
  /**
   * The pre-filter of the default rules alone with a group per rule (they have no groups of their own),
   * for testing a sentence before each default rule: it also tells which rule to try first.
   */
  defaults: RegExp;
  /** How many of `rules` are default rules (they come first). */
  defaultCount: number;
}

function tryPrefilter(rules: readonly RegExp[]): RegExp | null {
  try {
    return prefilter(rules);
  } catch {
    return null; // a pattern the rewrite cannot handle: always take the per-sentence pass
  }
}

function makeRuleSet(defaults: readonly RegExp[], extra: readonly RegExp[], combinable: boolean): RuleSet {
  const rules = [...defaults, ...extra];
  return { rules, filter: combinable ? tryPrefilter(rules) : null, defaults: prefilter(defaults, true), defaultCount: defaults.length };
}

/** Rule sets for lines with and without "melhor": [with, without]. */
type RuleSets = readonly [RuleSet, RuleSet];

const WITHOUT_MELHOR = DEFAULT_BOILERPLATE.filter((_, i) => i !== MELHOR_RULE);
const DEFAULT_RULE_SETS: RuleSets = [makeRuleSet(DEFAULT_BOILERPLATE, [], true), makeRuleSet(WITHOUT_MELHOR, [], true)];
/** Rule sets for a feed's own rule lists, made once per list. */
const extraRuleSets = new WeakMap<readonly RegExp[], RuleSets>();

function ruleSetsFor(extra: readonly RegExp[]): RuleSets {
  if (extra.length === 0) return DEFAULT_RULE_SETS;
  let sets = extraRuleSets.get(extra);
  if (!sets) {
    // As for the defaults alone: a line without "melhor" cannot match the rule left out, so the smaller
    // pre-filter answers as the full one would; and when the full one cannot be built, neither is used.
    const combinable = tryPrefilter([...DEFAULT_BOILERPLATE, ...extra]) !== null;
    sets = [makeRuleSet(DEFAULT_BOILERPLATE, extra, combinable), makeRuleSet(WITHOUT_MELHOR, extra, combinable)];
    extraRuleSets.set(extra, sets);
  }
  return sets;
}

/** Whether any rule may match at a sentence start of `line` (`decorated`: MAYBE_DECORATION_RE's answer for it). */
function mayMatch(line: string, filter: RegExp | null, decorated: boolean): boolean {
  if (!filter) return true;
  filter.lastIndex = 0;
  if (filter.test(line)) return true;
  const starts = decorated ? NEXT_START_RE : PUNCTUATION_START_RE;
  starts.lastIndex = 0;
  for (let m = starts.exec(line); m; m = starts.exec(line)) {
    filter.lastIndex = m.index + m[0].length;
    if (filter.test(line)) return true;
  }
  return false;
}

/**
 * Whether any rule of the set matches `text` (a sentence, or a line of one sentence). The default rules
 * are anchored at the start with the flags of their pre-filter, so a text their pre-filter rejects at
 * offset 0 matches none of them; a feed's own rules are tested one by one.
 */
function anyRuleMatches(text: string, set: RuleSet): boolean {
  const { rules, defaults, defaultCount } = set;
  defaults.lastIndex = 0;
  const m = defaults.exec(text);
  if (m) {
    // The rule whose loosened form matched usually matches itself; the others are tried only if not.
    let likely = 0;
    while (likely < defaultCount && m[likely + 1] === undefined) likely++;
    if (likely < defaultCount && matches(rules[likely]!, text)) return true;
    for (let i = 0; i < defaultCount; i++) if (i !== likely && matches(rules[i]!, text)) return true;
  }
  for (let i = defaultCount; i < rules.length; i++) if (matches(rules[i]!, text)) return true;
  return false;
}

function dropSentences(line: string, set: RuleSet, decorated: boolean): string {
  const sentences = decorated ? line.split(DECORATION_START_RE).flatMap((part) => splitSentences(part)) : splitSentences(line);
  if (sentences.length <= 1) return anyRuleMatches(line, set) ? '' : line;
  const kept = sentences.filter((s) => !anyRuleMatches(s, set));
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
 * a colon and a bracket, an end marker, or the words of the WordPress footer (its pattern is case-sensitive).
 */
function cutInline(line: string): string {
  const [credits, readMore, footer] = INLINE_BOILERPLATE as [RegExp, RegExp, RegExp];
  let out = line;
  if (out.includes(':') && (out.includes('(') || out.includes('['))) out = cutFragment(out, credits);
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
  const sets = ruleSetsFor(extra);
  const lines = normalized.split('\n');
  // The result is built already normalised: the lines kept are normalised (lines of normalised text, or
  // rebuilt by collapseWhitespace), so only the blank lines around dropped ones need care (at most one
  // between paragraphs, none at either end).
  let result = '';
  let blankPending = false;
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineStart = offset;
    offset += line.length + 1;
    if (!line) {
      blankPending = true;
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
    if (line.length <= MAX_FURNITURE_LINE && isFurniture(line)) continue;
    const set = sets[MELHOR_RE.test(line) ? 0 : 1];
    const decorated = MAYBE_DECORATION_RE.test(line);
    const kept = cutInline(mayMatch(line, set.filter, decorated) ? dropSentences(line, set, decorated) : line);
    if (!kept) continue;
    result = result === '' ? kept : `${result}${blankPending ? '\n\n' : '\n'}${kept}`;
    blankPending = false;
  }
  return result;
}
