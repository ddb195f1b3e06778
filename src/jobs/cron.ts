/*
 * Five-field cron expressions (minute hour day-of-month month day-of-week), as crontab(5) reads
 * them: lists, ranges, steps, month and weekday names, 7 as Sunday, the @daily-style shorthands, and
 * the rule that when both day fields are restricted a day matching either runs. Times are UTC.
 * Pure: values in, values out.
 */
import { AppError } from '../server/errors.js';

export interface CronSchedule {
  /** The expression as given, trimmed. */
  readonly source: string;
  readonly minutes: readonly boolean[];
  readonly hours: readonly boolean[];
  /** Indexed 1–31. */
  readonly daysOfMonth: readonly boolean[];
  /** Indexed 1–12. */
  readonly months: readonly boolean[];
  /** Indexed 0–6, Sunday first. */
  readonly daysOfWeek: readonly boolean[];
  /** Whether each day field was restricted (did not start with `*`): both restricted means either matches. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly namesStart?: number;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesStart: 1 },
  // 7 is Sunday as well as 0, as in most crons.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, namesStart: 0 },
];

const SHORTHANDS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Longest day of each month (February in a leap year), to refuse schedules that never run. */
const LONGEST_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  const invalid = (why: string) => new AppError('job.cron_invalid', `${JSON.stringify(source)}: ${why}`);
  if (source === '') throw invalid('the expression is empty; expected 5 fields: minute hour day-of-month month day-of-week');
  let text = source;
  if (source.startsWith('@')) {
    const expanded = SHORTHANDS[source.toLowerCase()];
    if (expanded === undefined) throw invalid(`unknown shorthand; use one of ${Object.keys(SHORTHANDS).join(', ')}`);
    text = expanded;
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5) {
    throw invalid(`expected 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`);
  }
  const [minutes, hours, daysOfMonth, months, weekdays] = parts.map((part, i) => parseField(part, FIELDS[i]!, invalid)) as [
    boolean[],
    boolean[],
    boolean[],
    boolean[],
    boolean[],
  ];
  if (weekdays[7]) weekdays[0] = true;
  const schedule: CronSchedule = {
    source,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek: weekdays.slice(0, 7),
    dayOfMonthRestricted: !parts[2]!.startsWith('*'),
    dayOfWeekRestricted: !parts[4]!.startsWith('*'),
  };
  if (schedule.dayOfMonthRestricted && !schedule.dayOfWeekRestricted && !someDayExists(schedule)) {
    throw invalid('it never runs: no chosen month has the chosen day of the month');
  }
  return schedule;
}

function parseField(text: string, spec: FieldSpec, invalid: (why: string) => AppError): boolean[] {
  const chosen = new Array<boolean>(spec.max + 1).fill(false);
  for (const item of text.split(',')) {
    const where = `${spec.name} field ${JSON.stringify(text)}`;
    if (item === '') throw invalid(`${where} has an empty list item`);
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined) throw invalid(`${where}: ${JSON.stringify(item)} has more than one step`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw invalid(`${where}: the step ${JSON.stringify(stepText)} is not a whole number of at least 1`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.name === 'day-of-week' ? 6 : spec.max;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2) throw invalid(`${where}: ${JSON.stringify(range)} is not a value or a range`);
      from = valueOf(bounds[0]!, spec, where, invalid);
      // `5/15` means from 5 to the end, every 15.
      to = bounds.length === 2 ? valueOf(bounds[1]!, spec, where, invalid) : stepText !== undefined ? spec.max : from;
      if (from > to) throw invalid(`${where}: the range ${JSON.stringify(range)} runs backwards`);
    }
    for (let v = from; v <= to; v += step) chosen[v] = true;
  }
  return chosen;
}

function valueOf(token: string, spec: FieldSpec, where: string, invalid: (why: string) => AppError): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < spec.min || n > spec.max) throw invalid(`${where}: ${n} is outside ${spec.min}-${spec.max}`);
    return n;
  }
  const named = spec.names?.indexOf(token.toLowerCase()) ?? -1;
  if (named >= 0) return named + (spec.namesStart ?? 0);
  const names = spec.names ? ` or a name (${spec.names.join(', ')})` : '';
  throw invalid(`${where}: ${JSON.stringify(token)} is not a number from ${spec.min} to ${spec.max}${names}`);
}

function someDayExists(schedule: CronSchedule): boolean {
  for (let month = 1; month <= 12; month++) {
    if (!schedule.months[month]) continue;
    for (let day = 1; day <= LONGEST_MONTH[month]!; day++) if (schedule.daysOfMonth[day]) return true;
  }
  return false;
}

const MINUTE = 60_000;
/** Far more than any valid schedule needs (29 February recurs within 8 years). */
const SEARCH_YEARS = 9;

/** The first time strictly after `after`, to the minute, at which the schedule runs; schedules are UTC only. */
export function nextCronRun(schedule: CronSchedule, after: Date, _timeZone: 'UTC' = 'UTC'): Date {
  const start = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE;
  if (!Number.isFinite(start)) throw new RangeError('nextCronRun needs a valid date');
  let t = new Date(start);
  const limit = t.getUTCFullYear() + SEARCH_YEARS;
  while (t.getUTCFullYear() <= limit) {
    const year = t.getUTCFullYear();
    const month = t.getUTCMonth();
    const day = t.getUTCDate();
    const hour = t.getUTCHours();
    if (!schedule.months[month + 1]) {
      t = new Date(Date.UTC(year, month + 1, 1));
    } else if (!dayMatches(schedule, t)) {
      t = new Date(Date.UTC(year, month, day + 1));
    } else if (!schedule.hours[hour]) {
      t = new Date(Date.UTC(year, month, day, hour + 1));
    } else if (!schedule.minutes[t.getUTCMinutes()]) {
      t = new Date(t.getTime() + MINUTE);
    } else {
      return t;
    }
  }
  throw new AppError('job.cron_invalid', `${JSON.stringify(schedule.source)}: it does not run within ${SEARCH_YEARS} years`);
}

function dayMatches(schedule: CronSchedule, t: Date): boolean {
  const byMonthDay = schedule.daysOfMonth[t.getUTCDate()]!;
  const byWeekday = schedule.daysOfWeek[t.getUTCDay()]!;
  if (schedule.dayOfMonthRestricted && schedule.dayOfWeekRestricted) return byMonthDay || byWeekday;
  if (schedule.dayOfMonthRestricted) return byMonthDay;
  if (schedule.dayOfWeekRestricted) return byWeekday;
  return true;
}
