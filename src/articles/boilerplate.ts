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

const DEFAULT_PREFILTER = prefilter(DEFAULT_BOILERPLATE);
/** Pre-filters for a feed's own rule lists, made once per list. */
const extraPrefilters = new WeakMap<readonly RegExp[], RegExp | null>();

function prefilterFor(extra: readonly RegExp[]): RegExp | null {
  if (extra.length === 0) return DEFAULT_PREFILTER;
  if (!extraPrefilters.has(extra)) {
    let combined: RegExp | null;
    try {
      combined = prefilter([...DEFAULT_BOILERPLATE, ...extra]);
    } catch {
      combined = null; // a pattern the rewrite cannot handle: always take the per-sentence pass
    }
    extraPrefilters.set(extra, combined);
  }
  return extraPrefilters.get(extra) ?? null;
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

function cutInline(line: string): string {
  let out = line;
  for (const pattern of INLINE_BOILERPLATE) {
    pattern.lastIndex = 0;
    if (out.length > TAIL_WINDOW && pattern.source.endsWith('$')) {
      const head = out.slice(0, -TAIL_WINDOW);
      out = head + out.slice(-TAIL_WINDOW).replace(pattern, '');
    } else {
      out = out.replace(pattern, '');
    }
  }
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
  const rules = extra.length > 0 ? [...DEFAULT_BOILERPLATE, ...extra] : DEFAULT_BOILERPLATE;
  const filter = prefilterFor(extra);
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
    const kept = cutInline(mayMatch(line, filter) ? dropSentences(line, rules) : line);
    if (kept) out.push(kept);
  }
  return normalizeWhitespace(out.join('\n'));
}
