import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDate } from '../../src/articles/dates.js';

const iso = (raw: string | null | undefined) => parseDate(raw)?.toISOString() ?? null;

describe('parseDate: RFC 822 / 1123', () => {
  it.each([
    ['Mon, 24 Sep 2018 19:42:40 +0000', '2018-09-24T19:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 GMT', '2018-09-24T19:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 UT', '2018-09-24T19:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 UTC', '2018-09-24T19:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 Z', '2018-09-24T19:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 -0300', '2018-09-24T22:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 -03:00', '2018-09-24T22:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 +0530', '2018-09-24T14:12:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 EST', '2018-09-25T00:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 EDT', '2018-09-24T23:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 PST', '2018-09-25T03:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 PDT', '2018-09-25T02:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 BRT', '2018-09-24T22:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 BRST', '2018-09-24T21:42:40.000Z'],
    ['Mon, 24 Sep 2018 19:42:40 CET', '2018-09-24T18:42:40.000Z'],
  ])('%s', (raw, expected) => {
    expect(iso(raw)).toBe(expected);
  });

  it.each([
    ['no day name', '24 Sep 2018 19:42:40 +0000', '2018-09-24T19:42:40.000Z'],
    ['single-digit day', 'Wed, 1 Feb 2006 10:27:25 -0500', '2006-02-01T15:27:25.000Z'],
    ['padded single-digit day', 'Wed,  1 Feb 2006 10:27:25 -0500', '2006-02-01T15:27:25.000Z'],
    ['no seconds', 'Thu, 09 Feb 2006 23:59 +0000', '2006-02-09T23:59:00.000Z'],
    ['2-digit year 06', 'Thu, 09 Feb 06 23:59:45 +0000', '2006-02-09T23:59:45.000Z'],
    ['2-digit year 96', 'Fri, 09 Feb 96 23:59:45 +0000', '1996-02-09T23:59:45.000Z'],
    ['lowercase', 'thu, 09 feb 2006 23:59:45 gmt', '2006-02-09T23:59:45.000Z'],
    ['mixed case', 'tHu, 09 fEb 2006 16:59:45 pDt', '2006-02-09T23:59:45.000Z'],
    ['tabs and extra spaces', '\tThu , \t 09  Feb\t2006  23:59:45\t +0000', '2006-02-09T23:59:45.000Z'],
    ['no space after comma', 'Sat,29 Jul 2006 00:03:02 +0000', '2006-07-29T00:03:02.000Z'],
    ['trailing (UTC)', 'Mon, 24 Sep 2018 19:42:40 +0000 (UTC)', '2018-09-24T19:42:40.000Z'],
    ['comments everywhere', 'Thu(oh how I hate thursdays), 9(th) Feb(ruary) 2006 23:59:45 +0000(GMT r0x0rz)', '2006-02-09T23:59:45.000Z'],
    ['nested and escaped comments', 'Thu, 09 (nested (comment) Mar)Feb(escaped comment\\) 2005) 2006()23:59:45 +0000', '2006-02-09T23:59:45.000Z'],
    ['two zones', 'Mon, 24 Sep 2018 19:42:40 +0000 GMT', '2018-09-24T19:42:40.000Z'],
    ['trailing words', 'Mon, 24 Sep 2018 19:42:40 +0000 horário de Brasília', '2018-09-24T19:42:40.000Z'],
    ['military zone letter', 'Fri, 10 Feb 2006 03:59:45 Q', '2006-02-10T03:59:45.000Z'],
    ['odd offset', 'Thu, 09 Feb 2006 21:25:45 -0234', '2006-02-09T23:59:45.000Z'],
    ['wrong day name is ignored', 'Tue, 24 Sep 2018 19:42:40 +0000', '2018-09-24T19:42:40.000Z'],
    ['zone glued to the time', 'Mon, 24 Sep 2018 19:42:40+0000', '2018-09-24T19:42:40.000Z'],
    ['JavaScript toString', 'Mon Sep 24 2018 19:42:40 GMT-0300 (Brasilia Standard Time)', '2018-09-24T22:42:40.000Z'],
    ['US style with pm', 'Sep 24, 2018 7:42 PM EDT', '2018-09-24T23:42:00.000Z'],
    ['12 am is midnight', 'Sep 24, 2018 12:05 am GMT', '2018-09-24T00:05:00.000Z'],
    ['leap second read as :59', 'Sat, 31 Dec 2016 23:59:60 +0000', '2016-12-31T23:59:59.000Z'],
    ['full month name', '24 September 2018 19:42 GMT', '2018-09-24T19:42:00.000Z'],
  ])('%s', (_name, raw, expected) => {
    expect(iso(raw)).toBe(expected);
  });
});

describe('parseDate: Portuguese', () => {
  it.each([
    ['Seg, 24 Set 2018 19:42:40 -0300', '2018-09-24T22:42:40.000Z'],
    ['ter, 02 out 2018 08:00:00 -0300', '2018-10-02T11:00:00.000Z'],
    ['Qua, 15 Fev 2017 12:00:00 -0200', '2017-02-15T14:00:00.000Z'],
    ['qui, 10 mai 2018 10:00:00 +0000', '2018-05-10T10:00:00.000Z'],
    ['Sex, 17 Ago 2018 10:00:00 GMT', '2018-08-17T10:00:00.000Z'],
    ['Sáb, 01 Dez 2018 10:30:00 -0200', '2018-12-01T12:30:00.000Z'],
    ['Sab, 01 Dez 2018 10:30:00 -0200', '2018-12-01T12:30:00.000Z'],
    ['Dom., 3 mar. 2019 09:00 BRT', '2019-03-03T12:00:00.000Z'],
    ['sáb., 1º de dez. de 2018 às 10h30', '2018-12-01T10:30:00.000Z'],
    ['24 de setembro de 2018 às 19h42', '2018-09-24T19:42:00.000Z'],
    ['Terça-feira, 5 de março de 2019 14:00 -0300', '2019-03-05T17:00:00.000Z'],
    ['Quarta, 10 Abr 2019 08:15:00 -0300', '2019-04-10T11:15:00.000Z'],
    ['qui, 13 jun 2019 23:00:00 -0300', '2019-06-14T02:00:00.000Z'],
    ['SEG, 07 JAN 2019 07:00:00 -0200', '2019-01-07T09:00:00.000Z'],
    ['Seg, 11 Nov 2019 06:00:00 -0300', '2019-11-11T09:00:00.000Z'],
    ['sex, 19 jul 2019 18:00 -0300', '2019-07-19T21:00:00.000Z'],
  ])('%s', (raw, expected) => {
    expect(iso(raw)).toBe(expected);
  });
});

describe('parseDate: ISO 8601', () => {
  it.each([
    ['2018-09-24T19:42:40Z', '2018-09-24T19:42:40.000Z'],
    ['2018-09-24T19:42:40-03:00', '2018-09-24T22:42:40.000Z'],
    ['2018-09-24T19:42:40-0300', '2018-09-24T22:42:40.000Z'],
    ['2018-09-24T19:42:40+05:30', '2018-09-24T14:12:40.000Z'],
    ['2018-09-24T19:42:40.123Z', '2018-09-24T19:42:40.123Z'],
    ['2018-09-24T19:42:40.123456789+00:00', '2018-09-24T19:42:40.123Z'],
    ['2002-12-31T19:20:30.45+01:00', '2002-12-31T18:20:30.450Z'],
    ['2002-12-31T19:20+01:00', '2002-12-31T18:20:00.000Z'],
    ['2018-09-24 19:42:40', '2018-09-24T19:42:40.000Z'],
    ['2018-09-24 19:42:40 -0300', '2018-09-24T22:42:40.000Z'],
    ['2003-07-01T01:55:07 -05:00', '2003-07-01T06:55:07.000Z'],
    ['2003-12-13t18:30:02.25z', '2003-12-13T18:30:02.250Z'],
    ['20021231T19:20:30.45+01:00', '2002-12-31T18:20:30.450Z'],
    ['2018-09-24', '2018-09-24T00:00:00.000Z'],
    ['2018-09', '2018-09-01T00:00:00.000Z'],
    ['2018', '2018-01-01T00:00:00.000Z'],
  ])('%s', (raw, expected) => {
    expect(iso(raw)).toBe(expected);
  });

  it('reads a zoneless date as UTC by default, or with the given offset', () => {
    expect(iso('2018-09-24T19:42:40')).toBe('2018-09-24T19:42:40.000Z');
    expect(parseDate('2018-09-24T19:42:40', { defaultOffsetMinutes: -180 })?.toISOString()).toBe('2018-09-24T22:42:40.000Z');
    expect(parseDate('24 Sep 2018 19:42', { defaultOffsetMinutes: -180 })?.toISOString()).toBe('2018-09-24T22:42:00.000Z');
    // An explicit zone wins over the default.
    expect(parseDate('2018-09-24T19:42:40Z', { defaultOffsetMinutes: -180 })?.toISOString()).toBe('2018-09-24T19:42:40.000Z');
  });
});

describe('parseDate: missing, never "now"', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['garbage', 'yesterday afternoon'],
    ['now', 'now'],
    ['no year', 'Mon, 24 Sep'],
    ['no year in ISO', '07-01T01:55:07-05:00'],
    ['31 June', 'Sat, 31 Jun 2006 23:08:26 +1000'],
    ['30 February', '30 Feb 2020 10:00 GMT'],
    ['day 32', '2003-07-32T15:51:30-05:00'],
    ['month 13', '2003-13-01T15:51:30-05:00'],
    ['hour 25', '2003-07-01T25:51:30-05:00'],
    ['minute 61', '2003-07-01T01:61:30-05:00'],
    ['second 61', '2003-07-01T01:55:61-05:00'],
    ['ambiguous numeric day/month', '05/06/2018'],
    ['epoch seconds', '1537829000'],
    ['3-digit year', '24 Sep 201 10:00 GMT'],
    ['unknown zone in ISO', '2018-09-24T19:42:40 XYZ'],
    ['pm with hour 13', 'Sep 24, 2018 13:42 PM'],
    ['huge input', `Mon, 24 Sep 2018 ${'x'.repeat(500)}`],
  ])('%s', (_name, raw) => {
    expect(parseDate(raw as string | null | undefined)).toBeNull();
  });

  it('accepts 29 February in a leap year only', () => {
    expect(iso('29 Feb 2020 10:00 GMT')).toBe('2020-02-29T10:00:00.000Z');
    expect(parseDate('29 Feb 2019 10:00 GMT')).toBeNull();
  });

  it('keeps years before 100 as written', () => {
    expect(iso('0103-12-13T18:30:02Z')).toBe('0103-12-13T18:30:02.000Z');
  });
});

// Odd real-world dates collected by the Feed Validator project: each parses or is reported missing.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const validatorDir = path.resolve(repoRoot, '../shared/corpora/feedvalidator/testcases');
const DATE_ELEMENT_RE = /<(pubDate|dc:date|published|updated|lastBuildDate|issued|modified)>([^<]*)</g;

function collectDates(dir: string): string[] {
  const found = new Set<string>();
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.xml')) {
        const text = fs.readFileSync(p, 'latin1');
        for (const m of text.matchAll(DATE_ELEMENT_RE)) found.add(m[2]!);
      }
    }
  };
  walk(dir);
  return [...found];
}

describe.skipIf(!fs.existsSync(validatorDir))('parseDate over the Feed Validator corpus', () => {
  it('never throws, never returns an invalid Date, and reads every RFC 822 date with a valid day and time', () => {
    const dates = collectDates(validatorDir);
    expect(dates.length).toBeGreaterThan(50);
    let parsed = 0;
    for (const raw of dates) {
      const d = parseDate(raw);
      if (d) {
        expect(Number.isNaN(d.getTime()), raw).toBe(false);
        parsed++;
      }
    }
    // The corpus mixes valid and deliberately broken dates; most of it is readable.
    expect(parsed / dates.length).toBeGreaterThan(0.75);
    // Known cases from the corpus, read as a person would.
    expect(iso('Thu (oh how I hate thursdays), 16(th) Feb(ruary) 2006 01:39 +0000 (GMT r0x0rz)')).toBe('2006-02-16T01:39:00.000Z');
    expect(iso('21 Oct 2002 06:45 EDT')).toBe('2002-10-21T10:45:00.000Z');
    expect(iso('31 Dec 99 23:59:59 +0000')).toBe('1999-12-31T23:59:59.000Z');
  });
});
