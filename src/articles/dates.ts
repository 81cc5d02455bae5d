/**
 * Dates as feeds write them: RFC 822/1123 and its wild variants, ISO 8601 / W3CDTF, and Portuguese
 * (and Spanish) day and month names. Anything that cannot be read with confidence is `null`, never
 * "now": a missing date is reported as missing.
 *
 * What is accepted, beyond the standards:
 * - RFC 822 without the day name, with a wrong day name (ignored), 1- or 2-digit days, 2-digit years
 *   (00–49 → 20xx, 50–99 → 19xx), without seconds, any case, extra spaces/tabs, a missing space after
 *   the comma, parenthesised comments anywhere (`(UTC)`, `16(th)`), trailing words after a complete
 *   date and time, `+0000`, `-03:00`, `GMT-0300`, named zones (GMT, UTC, EST/EDT, PST/PDT, BRT, BRST,
 *   CET…), military single letters (`Z` is UTC; the others are treated as UTC, as RFC 2822 advises,
 *   because RFC 822 got their signs backwards), `am`/`pm`, the shape of JavaScript's
 *   `Date#toString()` (`Mon Sep 24 2018 19:42:40 GMT-0300 (Brasilia Standard Time)`).
 * - Portuguese: `Seg, 24 Set 2018 19:42:40 -0300`, `sáb`, `ter.`, `24 de setembro de 2018 às 19h42`,
 *   with or without accents or dots.
 * - ISO 8601: date only (midnight), year-month, year, with or without zone, fractional seconds,
 *   a space instead of `T`, lowercase `t`/`z`, `+0300`, the basic form `20021231T192030`.
 *
 * Purely numeric day/month orders (`24/09/2018`, `09/24/2018`) are ambiguous and give null.
 *
 * A date and time without a zone is taken as UTC unless the caller gives another offset
 * (`defaultOffsetMinutes`): feeds rarely say which zone they meant, and UTC is at least reproducible.
 * Out-of-range fields (31 June, 25:00, minute 61) make the whole date null. A leap second (`:60`)
 * is read as `:59`.
 */

/** Options of `parseDate`. */
export interface ParseDateOptions {
  /**
   * Offset from UTC in minutes applied to a date that names no zone (e.g. -180 for Brasília).
   * Default 0: such dates are read as UTC.
   */
  defaultOffsetMinutes?: number;
}

const MONTHS: Record<string, number> = {
  jan: 1, january: 1, janeiro: 1, ene: 1, enero: 1,
  feb: 2, february: 2, fev: 2, fevereiro: 2, febrero: 2,
  mar: 3, march: 3, marco: 3, marzo: 3,
  apr: 4, april: 4, abr: 4, abril: 4,
  may: 5, mai: 5, maio: 5, mayo: 5,
  jun: 6, june: 6, junho: 6, junio: 6,
  jul: 7, july: 7, julho: 7, julio: 7,
  aug: 8, august: 8, ago: 8, agosto: 8,
  sep: 9, sept: 9, september: 9, set: 9, setembro: 9, septiembre: 9, setiembre: 9,
  oct: 10, october: 10, out: 10, outubro: 10, octubre: 10,
  nov: 11, november: 11, novembro: 11, noviembre: 11,
  dec: 12, december: 12, dez: 12, dezembro: 12, dic: 12, diciembre: 12,
};

const DAY_NAMES = new Set([
  'sun', 'mon', 'tue', 'tues', 'wed', 'thu', 'thur', 'thurs', 'fri', 'sat',
  'sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday',
  'dom', 'seg', 'ter', 'qua', 'qui', 'sex', 'sab',
  'domingo', 'segunda', 'terca', 'quarta', 'quinta', 'sexta', 'sabado',
  'lun', 'mie', 'jue', 'vie', 'lunes', 'martes', 'miercoles', 'jueves', 'viernes',
]);

/** Words that may sit between the parts of a date: "24 de setembro de 2018 às 19h42", "at". */
const FILLERS = new Set(['de', 'del', 'as', 'a', 'at', 'on', 'em', 'the', 'of']);

/** Named zones, minutes east of UTC. The US names follow RFC 822; the rest are common in feeds. */
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0, zulu: 0, wet: 0,
  est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
  akst: -540, akdt: -480, hst: -600,
  brt: -180, brst: -120, amt: -240, amst: -180, fnt: -120, art: -180, clt: -240, clst: -180,
  cot: -300, pet: -300,
  bst: 60, west: 60, cet: 60, cest: 120, met: 60, mest: 120, eet: 120, eest: 180, msk: 180,
  ist: 330, sgt: 480, hkt: 480, awst: 480, jst: 540, kst: 540, acst: 570, aest: 600, aedt: 660,
  nzst: 720, nzdt: 780,
};

const ISO_RE =
  /^(\d{4})(?:([-/])(\d{1,2})(?:\2(\d{1,2}))?|(\d{2})(\d{2}))?(?:(?:\s*t\s*|\s+)(\d{1,2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(z|[+-]\d{2}(?::?\d{2})?|[a-z]{2,5})?$/;

const TIME_RE = /^(\d{1,2})(?::|h)(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(z|[+-]\d{2}:?\d{2})?$/;
const HOUR_ONLY_RE = /^(\d{1,2})h$/;
const OFFSET_RE = /^(?:gmt|utc|ut)?([+-])(\d{1,2})(?::?(\d{2}))?$/;

/** Removes RFC 822 comments: parenthesised text, nested, with backslash escapes. */
function stripComments(s: string): string {
  if (!s.includes('(')) return s;
  let out = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (depth > 0 && c === '\\') {
      i++;
      continue;
    }
    if (c === '(') {
      depth++;
      if (depth === 1) out += ' ';
    } else if (c === ')' && depth > 0) {
      depth--;
    } else if (depth === 0) {
      out += c;
    }
  }
  return out;
}

function stripAccents(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function parseOffset(token: string): number | null {
  if (token === 'z') return 0;
  const m = OFFSET_RE.exec(token);
  if (m) {
    const h = Number(m[2]);
    const min = m[3] === undefined ? 0 : Number(m[3]);
    if (h > 23 || min > 59) return null;
    return (m[1] === '-' ? -1 : 1) * (h * 60 + min);
  }
  return null;
}

function build(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMinutes: number,
): Date | null {
  if (year < 0 || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, Math.min(second, 59), millis);
  const t = utc.getTime() - offsetMinutes * 60_000;
  return Number.isFinite(t) ? new Date(t) : null;
}

function parseIso(s: string, defaultOffset: number): Date | null {
  const m = ISO_RE.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[3] !== undefined ? Number(m[3]) : m[5] !== undefined ? Number(m[5]) : 1;
  const day = m[4] !== undefined ? Number(m[4]) : m[6] !== undefined ? Number(m[6]) : 1;
  const hasTime = m[7] !== undefined;
  let offset = defaultOffset;
  if (m[11] !== undefined) {
    const z = m[11];
    const named = ZONES[z];
    const parsed = named ?? parseOffset(z);
    if (parsed === null || parsed === undefined) return null;
    offset = parsed;
  } else if (!hasTime) {
    offset = defaultOffset;
  }
  const millis = m[10] !== undefined ? Math.round(Number(`0.${m[10]}`) * 1000) : 0;
  return build(
    year,
    month,
    day,
    hasTime ? Number(m[7]) : 0,
    hasTime ? Number(m[8]) : 0,
    m[9] !== undefined ? Number(m[9]) : 0,
    Math.min(millis, 999),
    offset,
  );
}

function parseLoose(s: string, defaultOffset: number): Date | null {
  const tokens = stripComments(s)
    .replace(/[,;]/g, ' ')
    .split(/\s+/)
    .filter((t) => t.length > 0);
  let day: number | null = null;
  let month: number | null = null;
  let year: number | null = null;
  let hour: number | null = null;
  let minute = 0;
  let second = 0;
  let offset: number | null = null;
  let pm: boolean | null = null;
  // "mar" is March, but also Spanish "martes": a later month name wins over it.
  let monthFromMar = false;

  for (const raw of tokens) {
    const complete = day !== null && month !== null && year !== null && hour !== null;
    const tok = stripAccents(raw).replace(/\.$/, '');
    const word = tok.replace(/-feira$/, '');

    const time = TIME_RE.exec(tok);
    if (time && hour === null) {
      hour = Number(time[1]);
      minute = Number(time[2]);
      second = time[3] !== undefined ? Number(time[3]) : 0;
      if (time[4] !== undefined) offset = parseOffset(time[4]);
      continue;
    }
    const hourOnly = HOUR_ONLY_RE.exec(tok);
    if (hourOnly && hour === null) {
      hour = Number(hourOnly[1]);
      continue;
    }
    if (/^\d+(?:st|nd|rd|th|o|a|º|ª)?$/.test(tok)) {
      const digits = tok.replace(/\D+$/, '');
      const n = Number(digits);
      if (digits.length === 4 && year === null) year = n;
      else if (digits.length <= 2 && day === null) day = n;
      else if (digits.length === 2 && year === null) year = n < 50 ? 2000 + n : 1900 + n;
      else if (complete) break;
      else return null;
      continue;
    }
    if (MONTHS[word] !== undefined && (month === null || monthFromMar)) {
      monthFromMar = month === null && word === 'mar';
      month = MONTHS[word]!;
      continue;
    }
    if (DAY_NAMES.has(word) || FILLERS.has(word)) continue;
    if (word === 'am' || word === 'a.m' || word === 'pm' || word === 'p.m') {
      pm = word.startsWith('p');
      continue;
    }
    if (offset === null) {
      const named = ZONES[word];
      if (named !== undefined) {
        offset = named;
        continue;
      }
      if (/^[a-z]$/.test(word)) {
        offset = 0; // military zone letter: see the module comment
        continue;
      }
      const numeric = parseOffset(word);
      if (numeric !== null) {
        offset = numeric;
        continue;
      }
    }
    // A second zone ("+0000 GMT") or trailing words after a complete date: ignore them.
    if (complete) continue;
    return null;
  }

  if (day === null || month === null || year === null) return null;
  let h = hour ?? 0;
  if (pm !== null) {
    if (h < 1 || h > 12) return null;
    h = (h % 12) + (pm ? 12 : 0);
  }
  return build(year, month, day, h, minute, second, 0, offset ?? defaultOffset);
}

/**
 * The exact RFC 1123 shape most RSS feeds write (`wed, 25 nov 2026 12:00:00 gmt`, lowercased), read
 * without tokenising. It gives what `parseLoose` gives for the same text.
 */
const RFC1123_RE =
  /^(?:(?:mon|tue|wed|thu|fri|sat|sun), )?(\d{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (gmt|utc|ut|z|[+-]\d{4})$/;

function parseRfc1123(s: string): Date | null | undefined {
  const m = RFC1123_RE.exec(s);
  if (!m) return undefined;
  const zone = m[7]!;
  let offset = 0;
  if (zone[0] === '+' || zone[0] === '-') {
    const h = Number(zone.slice(1, 3));
    const min = Number(zone.slice(3, 5));
    if (h > 23 || min > 59) return undefined; // parseLoose has its own answer for these
    offset = (zone[0] === '-' ? -1 : 1) * (h * 60 + min);
  }
  return build(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), 0, offset);
}

/**
 * Reads a feed or page date. Returns null for anything it cannot read with confidence (empty,
 * garbage, impossible fields), never the current time. See the module comment for the accepted forms;
 * a date without a zone is read as UTC unless `options.defaultOffsetMinutes` says otherwise.
 */
export function parseDate(raw: string | null | undefined, options: ParseDateOptions = {}): Date | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim().toLowerCase();
  if (s.length === 0 || s.length > 200) return null;
  const defaultOffset = options.defaultOffsetMinutes ?? 0;
  const rfc = parseRfc1123(s);
  if (rfc !== undefined) return rfc;
  if (/^\d{4}/.test(s)) {
    const iso = parseIso(s, defaultOffset);
    if (iso) return iso;
  }
  return parseLoose(s, defaultOffset);
}
