/**
 * Linear-time scanning of hostile HTML: where tags, dropped elements and CDATA sections end.
 *
 * The text helpers used to find tags with backtracking regexes (`<name (?:[^>"']|"…"|'…')*>`). On markup
 * that never closes (`<img a` repeated 20,000 times) each "<" scans to the end of the input before it
 * fails, and the next "<" does it again: quadratic, tens of seconds of a blocked event loop for 120 KB.
 * The scanners here give the same answers as those regexes on every input, and never look at a
 * character more than a few times: a failed scan leaves behind what it learnt (a table of where a tag
 * starting at each position would end, or the fact that no `>` follows) instead of starting over.
 */

const GT = 0x3e;
const DQ = 0x22;
const SQ = 0x27;

/**
 * Where tag attribute runs end, as `(?:[^>"']|"[^"]*"|'[^']*')*>` would find them: outside quotes the
 * first `>` closes the tag, a quote skips to its partner, an unpaired quote means no tag. One scanner
 * per string; every answer is in O(length of the tag), and once any scan has failed (the expensive
 * case) a table built in one backward pass answers every later question in O(1).
 */
export class TagScanner {
  private table: Int32Array | null = null;
  /** Characters looked at so far without the table: past a few times the length, build it. */
  private work = 0;

  constructor(private readonly s: string) {}

  /**
   * Index of the `>` that closes a tag whose attributes start at `from` (scanning outside quotes), or
   * -1 when none does.
   */
  attrEnd(from: number): number {
    if (this.table) return from >= this.s.length ? -1 : this.table[from]!;
    const s = this.s;
    let i = from;
    let found = -1;
    for (;;) {
      if (i >= s.length) break;
      const c = s.charCodeAt(i);
      if (c === GT) {
        found = i;
        break;
      }
      if (c === DQ || c === SQ) {
        const close = s.indexOf(c === DQ ? '"' : "'", i + 1);
        if (close < 0) break;
        i = close + 1;
      } else {
        i++;
      }
    }
    this.work += i - from + 1;
    // A failed scan, or scans that went over the same ground again and again (tags that callers then
    // declined, e.g. text in angle brackets): the next ones would too. Learn it all once.
    if (found >= 0 && this.work <= 2 * s.length + 4096) return found;
    this.table = buildTable(s);
    return this.table[from] ?? -1;
  }
}

/** For every position, where an outside-quotes attribute scan starting there ends (-1: nowhere). */
function buildTable(s: string): Int32Array {
  const n = s.length;
  const end = new Int32Array(n + 1);
  end[n] = -1;
  let nextDq = -1; // the first '"' after i
  let nextSq = -1;
  for (let i = n - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c === GT) end[i] = i;
    else if (c === DQ) end[i] = nextDq < 0 ? -1 : end[nextDq + 1]!;
    else if (c === SQ) end[i] = nextSq < 0 ? -1 : end[nextSq + 1]!;
    else end[i] = end[i + 1]!;
    if (c === DQ) nextDq = i;
    else if (c === SQ) nextSq = i;
  }
  return end;
}

/**
 * `s.indexOf(needle, from)` for calls whose `from` never decreases much: the last answer is reused
 * while it still holds, and "not found" is remembered, so a run of unclosed openers costs one scan.
 */
export class ForwardFinder {
  private from = -1;
  private found = -2;

  constructor(
    private readonly s: string,
    private readonly find: (s: string, from: number) => number,
  ) {}

  next(from: number): number {
    if (this.found === -1 && from >= this.from) return -1;
    if (this.found >= 0 && from >= this.from && from <= this.found) return this.found;
    this.from = from;
    this.found = this.find(this.s, from);
    return this.found;
  }
}

const TAG_NAME_START = /[A-Za-z]/;
const TAG_NAME_RE = /[A-Za-z][A-Za-z0-9:-]*/y;

/** One tag found by `forEachTag`: its extent, whether it closes, and its name (null for `<!…>`, `<?…>`). */
export interface FoundTag {
  start: number;
  end: number;
  closing: boolean;
  name: string | null;
}

/**
 * Visits every tag of `s` in order, as the global regex
 * `/<(\/?)([A-Za-z][A-Za-z0-9:-]*)(?:[^>"']|"[^"]*"|'[^']*')*>|<[!?][^>]*>/g` would find them, in
 * linear time. A "<" that starts no tag is text. `visit` says whether it takes the tag; when it does
 * not, the search goes on from the next character (a tag may start inside a declined one).
 */
export function forEachTag(s: string, visit: (tag: FoundTag) => boolean): void {
  let lt = s.indexOf('<');
  if (lt < 0) return;
  const scanner = new TagScanner(s);
  const gt = new ForwardFinder(s, (str, from) => str.indexOf('>', from));
  while (lt >= 0) {
    let end = -1;
    let closing = false;
    let name: string | null = null;
    const c = s[lt + 1];
    if (c === '!' || c === '?') {
      const close = gt.next(lt + 2);
      if (close >= 0) end = close + 1;
    } else {
      let at = lt + 1;
      if (c === '/') {
        closing = true;
        at++;
      }
      if (TAG_NAME_START.test(s[at] ?? '')) {
        TAG_NAME_RE.lastIndex = at;
        TAG_NAME_RE.exec(s);
        const close = scanner.attrEnd(TAG_NAME_RE.lastIndex);
        if (close >= 0) {
          end = close + 1;
          name = s.slice(at, TAG_NAME_RE.lastIndex);
        }
      }
    }
    if (end < 0 || !visit({ start: lt, end, closing, name })) {
      lt = s.indexOf('<', lt + 1);
      continue;
    }
    lt = s.indexOf('<', end);
  }
}

/**
 * Removes whole elements (`<name …>…</name>`, names case-insensitive) as the global regex
 * `<(a|b)\b[^>]*>[\s\S]*?<\/\1\s*>` would, in linear time: each match becomes `replacement`; an element
 * that never closes is left alone (its tags go later, its text stays).
 */
export function dropElements(s: string, names: readonly string[], replacement: string): string {
  const openRe = openerFor(names);
  openRe.lastIndex = 0;
  let m = openRe.exec(s);
  if (!m) return s;
  const gt = new ForwardFinder(s, (str, from) => str.indexOf('>', from));
  const closers = new Map<string, ForwardFinder>();
  let out = '';
  let last = 0;
  while (m) {
    const start = m.index;
    const openEnd = gt.next(start + m[0].length);
    // No ">" after this opener: none after any later one either.
    if (openEnd < 0) break;
    const name = m[1]!.toLowerCase();
    let closer = closers.get(name);
    if (!closer) {
      const closeRe = closerFor(name);
      closer = new ForwardFinder(s, (str, from) => {
        closeRe.lastIndex = from;
        return closeRe.exec(str)?.index ?? -1;
      });
      closers.set(name, closer);
    }
    const close = closer.next(openEnd + 1);
    if (close < 0) {
      openRe.lastIndex = start + 1;
      m = openRe.exec(s);
      continue;
    }
    const closeEnd = s.indexOf('>', close) + 1;
    out += s.slice(last, start) + replacement;
    last = closeEnd;
    openRe.lastIndex = closeEnd;
    m = openRe.exec(s);
  }
  return last === 0 ? s : out + s.slice(last);
}

/** `s.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')` in linear time: an unclosed section stays as written. */
export function unwrapCdata(s: string): string {
  let open = s.indexOf('<![CDATA[');
  if (open < 0) return s;
  let out = '';
  let last = 0;
  while (open >= 0) {
    const close = s.indexOf(']]>', open + 9);
    // No "]]>" after this section's start: no later section can close either.
    if (close < 0) break;
    out += s.slice(last, open) + s.slice(open + 9, close);
    last = close + 3;
    open = s.indexOf('<![CDATA[', last);
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Compiled openers and closers, per list of names and per name: the same few lists are used on every item. */
const OPENERS = new Map<string, RegExp>();
const CLOSERS = new Map<string, RegExp>();
/** Callers pass fixed lists; the memo is emptied if it ever grows past this. */
const MAX_CACHED_RES = 256;

function cached(map: Map<string, RegExp>, key: string, make: () => RegExp): RegExp {
  let re = map.get(key);
  if (!re) {
    if (map.size >= MAX_CACHED_RES) map.clear();
    re = make();
    map.set(key, re);
  }
  // Callers set lastIndex before each use; one call never runs inside another.
  return re;
}

/** Openers per list object too, so that a caller's constant list is not joined on every call. */
const OPENERS_BY_LIST = new WeakMap<readonly string[], RegExp>();

function openerFor(names: readonly string[]): RegExp {
  let re = OPENERS_BY_LIST.get(names);
  if (!re) {
    const key = names.join('|');
    re = cached(OPENERS, key, () => new RegExp(`<(${key})\\b`, 'gi'));
    OPENERS_BY_LIST.set(names, re);
  }
  return re;
}

function closerFor(name: string): RegExp {
  return cached(CLOSERS, name, () => new RegExp(`<\\/${name}\\s*>`, 'gi'));
}
