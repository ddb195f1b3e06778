/*
 * The `range` question: start/end/step (defaults 1, 10, 1), optional tick interval,
 * placeholder and tick label set, checked as pyxform checks them. Arithmetic is exact
 * (scaled integers), because "0.3 is a multiple of 0.1" must hold as it does with
 * Python's Decimal.
 */
import type { DraftRow } from './draft.js';
import { XlsFormError, rowPrefix } from './issues.js';
import { PARAMETER_KEYS, checkParameterKeys } from './parameters.js';
import { ensureMap } from './question-types.js';
import type { CellMap } from './sheets.js';
import { subMap, text } from './sheets.js';

/** An exact decimal: digits × 10^-scale. */
interface Decimal {
  digits: bigint;
  scale: number;
}

function parseDecimal(value: string): Decimal | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(value.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return null;
  const fraction = match[3] ?? '';
  let digits = BigInt(`${match[1]}${match[2] || '0'}${fraction}`);
  let scale = fraction.length - Number(match[4] ?? '0');
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits, scale };
}

function align(a: Decimal, b: Decimal): [bigint, bigint] {
  const scale = Math.max(a.scale, b.scale);
  return [a.digits * 10n ** BigInt(scale - a.scale), b.digits * 10n ** BigInt(scale - b.scale)];
}

const compare = (a: Decimal, b: Decimal): number => {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
};
const subtract = (a: Decimal, b: Decimal): Decimal => {
  const [x, y] = align(a, b);
  return { digits: x - y, scale: Math.max(a.scale, b.scale) };
};
const abs = (a: Decimal): Decimal => ({ digits: a.digits < 0n ? -a.digits : a.digits, scale: a.scale });
const isZero = (a: Decimal): boolean => a.digits === 0n;
const isMultiple = (a: Decimal, of: Decimal): boolean => {
  const [x, y] = align(a, of);
  return y !== 0n && x % y === 0n;
};
const isIntegral = (a: Decimal): boolean => a.digits % 10n ** BigInt(a.scale) === 0n;
const min = (a: Decimal, b: Decimal): Decimal => (compare(a, b) <= 0 ? a : b);
const max = (a: Decimal, b: Decimal): Decimal => (compare(a, b) >= 0 ? a : b);

function rangeError(row: number, detail: string): XlsFormError {
  return new XlsFormError(
    'xlsform.bad_parameters',
    `${rowPrefix(row)} On the 'survey' sheet, the 'parameters' value is invalid. For the 'range' question type, ${detail}`,
    { sheet: 'survey', row },
  );
}

export function processRange(draft: DraftRow, choices: ReadonlyMap<string, CellMap[]>): void {
  const { cells, parameters: p, row } = draft;
  checkParameterKeys(p, PARAMETER_KEYS.range, row);
  const appearance = text(subMap(cells, 'control'), 'appearance');
  if (
    appearance &&
    !appearance.includes('vertical') &&
    !appearance.includes('no-ticks') &&
    ['tick_interval', 'placeholder', 'tick_labelset'].some((k) => p.has(k))
  ) {
    throw rangeError(
      row,
      "the parameters 'tick_interval', 'placeholder', and 'tick_labelset' are only supported for the appearances 'vertical', 'no-ticks', 'vertical no-ticks', and the default (empty) horizontal.",
    );
  }
  for (const [key, value] of [['start', '1'], ['end', '10'], ['step', '1']] as const) if (!p.has(key)) p.set(key, value);

  const number = (name: string): Decimal | null => {
    const value = p.get(name);
    if (value === undefined) return null;
    const parsed = parseDecimal(value);
    if (!parsed) throw rangeError(row, `the parameter '${name}' must be a number.`);
    return parsed;
  };
  const start = number('start') as Decimal;
  const end = number('end') as Decimal;
  const step = number('step') as Decimal;
  const tickInterval = number('tick_interval');
  const placeholder = number('placeholder');
  const tickLabelset = p.get('tick_labelset');
  const width = abs(subtract(end, start));

  if (isZero(step)) throw rangeError(row, "the parameter 'step' must not be '0' (zero).");
  if (compare(step, width) > 0) throw rangeError(row, "the parameter 'step' must not be larger than the range (the difference between 'start' and 'end').");
  if (tickInterval) {
    if (isZero(tickInterval)) throw rangeError(row, "the parameter 'tick_interval' must not be '0' (zero).");
    if (compare(tickInterval, width) > 0) {
      throw rangeError(row, "the parameter 'tick_interval' must not be larger than the range (the difference between 'start' and 'end').");
    }
    if (!isMultiple(tickInterval, step)) throw rangeError(row, "the parameter 'tick_interval' must be a multiple of 'step'.");
    p.set('odk:tick-interval', p.get('tick_interval') ?? '');
    p.delete('tick_interval');
  }
  if (placeholder) {
    if (!isMultiple(subtract(placeholder, start), step)) throw rangeError(row, "the parameter 'placeholder' must be a multiple of 'step'.");
    if (compare(placeholder, min(start, end)) < 0 || compare(placeholder, max(start, end)) > 0) {
      throw rangeError(row, "the parameter 'placeholder' must be between the 'start' and 'end' values, inclusive).");
    }
    p.set('odk:placeholder', p.get('placeholder') ?? '');
    p.delete('placeholder');
  }
  if (tickLabelset) {
    checkTickLabels(tickLabelset, { start, end, step, tickInterval, appearance, row }, choices);
    p.delete('tick_labelset');
  }
  if ([start, end, step, tickInterval, placeholder].some((d) => d !== null && !isIntegral(d))) {
    ensureMap(cells, 'bind').set('type', 'decimal');
  }
  const control = ensureMap(cells, 'control');
  for (const [key, value] of p) control.set(key, value);
  if (tickLabelset !== undefined) cells.set('itemset', tickLabelset);
}

interface RangeBounds {
  start: Decimal;
  end: Decimal;
  step: Decimal;
  tickInterval: Decimal | null;
  appearance: string | undefined;
  row: number;
}

function checkTickLabels(listName: string, bounds: RangeBounds, choices: ReadonlyMap<string, CellMap[]>): void {
  const { start, end, step, tickInterval, appearance, row } = bounds;
  const list = choices.get(listName);
  if (!list) throw rangeError(row, "the parameter 'tick_labelset' must be a choice list name from the 'list_name' column on the choices sheet.");
  const noTicks = appearance?.includes('no-ticks') ?? false;
  const values: Decimal[] = [];
  for (const choice of list) {
    const value = parseDecimal(text(choice, 'name') ?? '');
    if (!value) throw rangeError(row, `the parameter '${listName}' choice values must all be numbers.`);
    if (compare(value, min(start, end)) < 0 || compare(value, max(start, end)) > 0) {
      throw rangeError(row, "the parameter 'tick_labelset' choices must be between the 'start' and 'end' values, inclusive.");
    }
    if (tickInterval && !isMultiple(subtract(value, start), tickInterval)) {
      throw rangeError(row, "the parameter 'tick_labelset' choices' values must be equal to the start of the range plus a multiple of 'tick_interval'.");
    } else if (!tickInterval && !isMultiple(subtract(value, start), step)) {
      throw rangeError(row, "the parameter 'tick_labelset' choices' values must be equal to the start of the range plus a multiple of 'step'.");
    }
    if (noTicks && !values.some((v) => compare(v, value) === 0)) values.push(value);
  }
  if (!noTicks) return;
  if (values.length > 2) throw rangeError(row, "the parameter 'tick_labelset' choice list must have only 2 items when the 'appearance' is 'no-ticks'.");
  const matchesEnds =
    values.length === (compare(start, end) === 0 ? 1 : 2) && values.every((v) => compare(v, start) === 0 || compare(v, end) === 0);
  if (!matchesEnds) {
    throw rangeError(row, "the parameter 'tick_labelset' choice list values may onlymatch the range 'start' and 'end' values when the 'appearance' is 'no-ticks'.");
  }
}
