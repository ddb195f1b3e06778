/*
 * Cell values rendered as text exactly as pyxform 4.5.0 renders them.
 *
 * pyxform reads .xlsx with openpyxl and .xls with xlrd, then turns each value into text with
 * Python's str(): integer-valued floats print as integers, other floats with Python's repr
 * (exponent below 1e-4, so 0.00001 is "1e-05"), dates as `YYYY-MM-DD HH:MM:SS`, times as
 * `HH:MM:SS`, and openpyxl's durations as Python timedeltas ("1 day, 2:00:00"). The two
 * libraries convert date serials differently, so both algorithms are reproduced here.
 */

/** Python's str.strip() whitespace set (str.isspace), which differs from JavaScript's trim(). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/** pyxform cleans header cells: strip, then collapse runs of spaces. */
export function cleanHeader(text: string): string {
  return pyStrip(text).replace(/ {2,}/g, ' ');
}

/** pyxform cleans value cells: strip, then no-break spaces become spaces. */
export function cleanValue(text: string): string {
  return pyStrip(text).replaceAll('\u00a0', ' ');
}

/** Python's str() of a float. */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** pyxform's rendering of a number: as an integer when it is one, else Python's float repr. */
export function numberText(value: number): string {
  return Number.isInteger(value) ? BigInt(value).toString() : pyFloatRepr(value);
}

/** Python's round() on a float: halves go to the even neighbour. */
export function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return Math.abs(value % 1) === 0.5 ? 2 * Math.round(value / 2) : rounded;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function timeText(hour: number, minute: number, second: number, microsecond = 0): string {
  const base = `${pad(hour)}:${pad(minute)}:${pad(second)}`;
  return microsecond ? `${base}.${pad(microsecond, 6)}` : base;
}

function dateTimeText(y: number, mo: number, d: number, h: number, mi: number, s: number, us = 0): string {
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${timeText(h, mi, s, us)}`;
}

export class DateValueError extends Error {}

const XLRD_JDN_DELTA = [2415080 - 61, 2416482 - 1] as const;
const XLRD_DAYS_TOO_LARGE = [2958466, 2958466 - 1462] as const;

/** xlrd's xldate_as_tuple followed by pyxform's str(datetime) / str(time). */
export function xlsDateText(serial: number, datemode: 0 | 1): string {
  if (serial === 0) return '00:00:00';
  if (serial < 0) throw new DateValueError(`the date serial ${serial} is negative`);
  let days = Math.trunc(serial);
  let seconds = roundHalfEven((serial - days) * 86400);
  if (seconds === 86400) {
    seconds = 0;
    days += 1;
  }
  const hour = Math.floor(seconds / 3600);
  const minute = Math.floor((seconds % 3600) / 60);
  const second = seconds % 60;
  if (days >= XLRD_DAYS_TOO_LARGE[datemode]) throw new DateValueError(`the date serial ${serial} is after 9999`);
  if (days === 0) return timeText(hour, minute, second);
  // Serials before 1900-03-01 fall on Excel's fictitious 1900-02-29 boundary: xlrd refuses them.
  if (days < 61 && datemode === 0) throw new DateValueError(`the date serial ${serial} is ambiguous (before 1900-03-01)`);
  const jdn = days + XLRD_JDN_DELTA[datemode];
  const yreg = (Math.floor((Math.floor((jdn * 4 + 274277) / 146097) * 3) / 4) + jdn + 1363) * 4 + 3;
  let mp = Math.floor((yreg % 1461) / 4) * 535 + 333;
  const day = Math.floor((mp % 16384) / 535) + 1;
  mp >>= 14;
  const [year, month] = mp >= 10 ? [Math.floor(yreg / 1461) - 4715, mp - 9] : [Math.floor(yreg / 1461) - 4716, mp + 3];
  return dateTimeText(year, month, day, hour, minute, second);
}

const MS_PER_DAY = 86_400_000;
const WINDOWS_EPOCH_MS = Date.UTC(1899, 11, 30);
const MAC_EPOCH_MS = Date.UTC(1904, 0, 1);
// Date.UTC maps years below 100 into the 1900s, so year 1 is set explicitly.
const PY_DATETIME_MIN_MS = new Date(0).setUTCFullYear(1, 0, 1);
const PY_DATETIME_END_MS = Date.UTC(10000, 0, 1);

/** openpyxl replaces a date serial it cannot represent by this error text. */
export const OPENPYXL_BAD_DATE = '#VALUE!';

function utcText(ms: number): string {
  const date = new Date(ms);
  return dateTimeText(
    date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(),
    date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(),
    date.getUTCMilliseconds() * 1000,
  );
}

/** openpyxl's from_excel (date branch) followed by str(). */
export function openpyxlDateText(serial: number, date1904: boolean): string {
  const epoch = date1904 ? MAC_EPOCH_MS : WINDOWS_EPOCH_MS;
  let fraction = serial % 1;
  if (fraction < 0) fraction += 1;
  let day = serial - fraction;
  const diffMs = roundHalfEven(fraction * MS_PER_DAY);
  if (serial >= 0 && serial < 1 && diffMs < MS_PER_DAY) {
    const seconds = Math.floor(diffMs / 1000);
    return timeText(Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60, (diffMs % 1000) * 1000);
  }
  // openpyxl shifts serials below 60 by a day to undo Excel's fictitious 1900-02-29.
  if (serial > 0 && serial < 60 && !date1904) day += 1;
  const ms = epoch + day * MS_PER_DAY + diffMs;
  if (!(ms >= PY_DATETIME_MIN_MS && ms < PY_DATETIME_END_MS)) return OPENPYXL_BAD_DATE;
  return utcText(ms);
}

/** Python's str(timedelta) of openpyxl's duration (millisecond precision). */
export function openpyxlDurationText(serial: number): string {
  let micros = roundHalfEven(serial * MS_PER_DAY * 1000);
  if (micros % 1_000_000 !== 0) {
    const wholeSeconds = Math.floor(micros / 1_000_000);
    micros = wholeSeconds * 1_000_000 + roundHalfEven((micros - wholeSeconds * 1_000_000) / 1000) * 1000;
  }
  const microsPerDay = MS_PER_DAY * 1000;
  const days = Math.floor(micros / microsPerDay);
  if (Math.abs(days) > 999_999_999) return OPENPYXL_BAD_DATE;
  const rest = micros - days * microsPerDay;
  const seconds = Math.floor(rest / 1_000_000);
  const clock = `${Math.floor(seconds / 3600)}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
  const fraction = rest % 1_000_000 ? `.${pad(rest % 1_000_000, 6)}` : '';
  const dayPart = days ? `${days} day${Math.abs(days) === 1 ? '' : 's'}, ` : '';
  return `${dayPart}${clock}${fraction}`;
}

const ISO_DATETIME = /^(?:(\d{4})-(\d{2})-(\d{2}))?T?(?:(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?)?Z?/;

/** openpyxl's from_ISO8601 for `t="d"` cells, then str(); anything else is kept as written. */
export function isoDateText(text: string): string {
  const m = ISO_DATETIME.exec(text);
  if (!m || (m[1] === undefined && m[4] === undefined)) return text;
  const num = (s: string | undefined): number => (s === undefined ? 0 : Number(s));
  const micro = m[7] === undefined ? 0 : Math.trunc(Number(m[7]) * 1_000_000);
  if (m[1] === undefined) return timeText(num(m[4]), num(m[5]), num(m[6]), micro);
  if (m[4] === undefined) return `${m[1]}-${m[2]}-${m[3]}`;
  return dateTimeText(num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]), num(m[6]), micro);
}
