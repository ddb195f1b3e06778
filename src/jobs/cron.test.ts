import { describe, expect, it } from 'vitest';
import { AppError } from '../server/errors.js';
import { nextCronRun, parseCron, type CronSchedule } from './cron.js';

const next = (expression: string, after: string) => nextCronRun(parseCron(expression), new Date(after)).toISOString();

/** The runs after `after`, one at a time. */
function runs(expression: string, after: string, count: number): string[] {
  const schedule = parseCron(expression);
  const out: string[] = [];
  let t = new Date(after);
  for (let i = 0; i < count; i++) {
    t = nextCronRun(schedule, t);
    out.push(t.toISOString());
  }
  return out;
}

function cronError(expression: string): AppError {
  try {
    parseCron(expression);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('job.cron_invalid');
    return err as AppError;
  }
  throw new Error(`${JSON.stringify(expression)} was accepted`);
}

describe('parseCron', () => {
  it('reads lists, ranges, steps and names into the matching values', () => {
    const s = parseCron(' 5/20 1-3,22 */10 jan,Mar-may MON-wed,7 ');
    const on = (values: readonly boolean[]) => values.flatMap((v, i) => (v ? [i] : []));
    expect(s.source).toBe('5/20 1-3,22 */10 jan,Mar-may MON-wed,7');
    expect(on(s.minutes)).toEqual([5, 25, 45]);
    expect(on(s.hours)).toEqual([1, 2, 3, 22]);
    expect(on(s.daysOfMonth)).toEqual([1, 11, 21, 31]);
    expect(on(s.months)).toEqual([1, 3, 4, 5]);
    expect(on(s.daysOfWeek)).toEqual([0, 1, 2, 3]);
    expect(s.dayOfMonthRestricted).toBe(false);
    expect(s.dayOfWeekRestricted).toBe(true);
  });

  it('expands the shorthands', () => {
    const same = (a: CronSchedule, b: CronSchedule) => expect({ ...a, source: '' }).toEqual({ ...b, source: '' });
    same(parseCron('@daily'), parseCron('0 0 * * *'));
    same(parseCron('@MIDNIGHT'), parseCron('0 0 * * *'));
    same(parseCron('@hourly'), parseCron('0 * * * *'));
    same(parseCron('@weekly'), parseCron('0 0 * * 0'));
    same(parseCron('@monthly'), parseCron('0 0 1 * *'));
    same(parseCron('@yearly'), parseCron('0 0 1 1 *'));
    same(parseCron('@annually'), parseCron('0 0 1 1 *'));
  });

  it.each([
    ['', /empty/],
    ['* * * *', /expected 5 fields .* found 4/],
    ['* * * * * *', /found 6/],
    ['60 * * * *', /minute field "60": 60 is outside 0-59/],
    ['* 24 * * *', /hour field "24": 24 is outside 0-23/],
    ['* * 0 * *', /day-of-month field "0": 0 is outside 1-31/],
    ['* * 32 * *', /day-of-month.*outside 1-31/],
    ['* * * 13 *', /month field "13": 13 is outside 1-12/],
    ['* * * * 8', /day-of-week field "8": 8 is outside 0-7/],
    ['*/0 * * * *', /minute field .* step "0" is not a whole number of at least 1/],
    ['*/x * * * *', /step "x"/],
    ['1/2/3 * * * *', /more than one step/],
    ['30-10 * * * *', /range "30-10" runs backwards/],
    ['1-2-3 * * * *', /"1-2-3" is not a value or a range/],
    ['a * * * *', /minute field "a": "a" is not a number from 0 to 59$/],
    ['* * * foo *', /"foo" is not a number from 1 to 12 or a name \(jan, feb/],
    ['* * * * L', /"L" is not a number from 0 to 7 or a name \(sun, mon/],
    ['1,,2 * * * *', /minute field "1,,2" has an empty list item/],
    ['-1 * * * *', /"" is not a number/],
    ['@reboot', /unknown shorthand; use one of @yearly/],
    ['0 0 30 2 *', /never runs/],
    ['0 0 31 4,6,9,11 *', /never runs/],
  ])('refuses %j with a message that says why', (expression, message) => {
    const error = cronError(expression);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(JSON.stringify(expression.trim()))).toBe(true);
  });

  it('accepts 31 in a day list that some chosen month has, and 30 February when weekdays also choose', () => {
    expect(() => parseCron('0 0 31 2,3 *')).not.toThrow();
    expect(() => parseCron('0 0 30 2 mon')).not.toThrow();
  });
});

describe('nextCronRun', () => {
  it('finds the next minute strictly after the given time, ignoring seconds', () => {
    expect(next('* * * * *', '2026-03-01T10:07:00.000Z')).toBe('2026-03-01T10:08:00.000Z');
    expect(next('* * * * *', '2026-03-01T10:07:59.999Z')).toBe('2026-03-01T10:08:00.000Z');
    expect(next('*/15 * * * *', '2026-03-01T10:07:00.000Z')).toBe('2026-03-01T10:15:00.000Z');
    expect(next('*/15 * * * *', '2026-03-01T10:15:00.000Z')).toBe('2026-03-01T10:30:00.000Z');
    expect(next('*/15 * * * *', '2026-03-01T10:50:00.000Z')).toBe('2026-03-01T11:00:00.000Z');
  });

  it('rolls over hours, days, months and years', () => {
    expect(next('0 3 * * *', '2026-03-01T04:00:00.000Z')).toBe('2026-03-02T03:00:00.000Z');
    expect(next('0 0 1 * *', '2026-01-31T12:00:00.000Z')).toBe('2026-02-01T00:00:00.000Z');
    expect(next('30 23 31 12 *', '2026-12-31T23:30:00.000Z')).toBe('2027-12-31T23:30:00.000Z');
    expect(next('* * * * *', '2026-12-31T23:59:30.000Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('0 0 31 * *', '2026-04-01T00:00:00.000Z')).toBe('2026-05-31T00:00:00.000Z');
  });

  it('runs 29 February in the next leap year only', () => {
    expect(runs('0 12 29 2 *', '2026-01-01T00:00:00.000Z', 2)).toEqual(['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z']);
  });

  it('runs on weekdays by number or name, with 7 as Sunday', () => {
    // 2026-03-06 is a Friday.
    expect(next('0 9 * * mon-fri', '2026-03-06T10:00:00.000Z')).toBe('2026-03-09T09:00:00.000Z');
    expect(next('0 9 * * 7', '2026-03-06T10:00:00.000Z')).toBe('2026-03-08T09:00:00.000Z');
    expect(next('0 9 * * 0', '2026-03-06T10:00:00.000Z')).toBe('2026-03-08T09:00:00.000Z');
    expect(next('@weekly', '2026-03-06T10:00:00.000Z')).toBe('2026-03-08T00:00:00.000Z');
  });

  it('runs on a day matching either day field when both are restricted, and on both when one is *', () => {
    // The 13th, or any Friday, from 2026-03-01 (a Sunday): Fri 6, Fri 13, Fri 20, Fri 27, Mon 13 April…
    expect(runs('0 0 13 * fri', '2026-03-01T00:00:00.000Z', 6).map((t) => t.slice(0, 10))).toEqual([
      '2026-03-06',
      '2026-03-13',
      '2026-03-20',
      '2026-03-27',
      '2026-04-03',
      '2026-04-10',
    ]);
    expect(runs('0 0 13 4 fri', '2026-03-01T00:00:00.000Z', 3).map((t) => t.slice(0, 10))).toEqual(['2026-04-03', '2026-04-10', '2026-04-13']);
    // A * day of month (even */1) means only the weekday decides.
    expect(runs('0 0 */1 * fri', '2026-03-01T00:00:00.000Z', 2).map((t) => t.slice(0, 10))).toEqual(['2026-03-06', '2026-03-13']);
  });

  it('agrees with a minute-by-minute search on many expressions', () => {
    const expressions = ['*/7 */5 * * *', '0,30 8-17 * * 1-5', '15 2 1,15 * *', '0 0 13 * 5', '5/20 22-23 * jan,jul *', '59 23 28-31 * *', '0 12 * 2 sun'];
    const matches = (s: CronSchedule, t: Date) => {
      const dom = s.daysOfMonth[t.getUTCDate()]!;
      const dow = s.daysOfWeek[t.getUTCDay()]!;
      const day = s.dayOfMonthRestricted && s.dayOfWeekRestricted ? dom || dow : (!s.dayOfMonthRestricted || dom) && (!s.dayOfWeekRestricted || dow);
      return s.minutes[t.getUTCMinutes()]! && s.hours[t.getUTCHours()]! && s.months[t.getUTCMonth() + 1]! && day;
    };
    for (const expression of expressions) {
      const schedule = parseCron(expression);
      let from = new Date('2026-01-30T22:41:13.000Z');
      for (let i = 0; i < 5; i++) {
        let scan = new Date(Math.floor(from.getTime() / 60_000) * 60_000 + 60_000);
        while (!matches(schedule, scan)) scan = new Date(scan.getTime() + 60_000);
        const found = nextCronRun(schedule, from);
        expect(found.toISOString(), expression).toBe(scan.toISOString());
        from = found;
      }
    }
  });

  it('refuses an invalid date', () => {
    expect(() => nextCronRun(parseCron('* * * * *'), new Date('nonsense'))).toThrow(RangeError);
  });
});
