import { describe, expect, it } from 'vitest';
import { isXlrdDateFormat } from './biff.js';
import { cleanHeader, cleanValue, isoDateText, numberText, openpyxlDateText, openpyxlDurationText, pyFloatRepr, pyStrip, xlsDateText } from './values.js';

describe('Python-compatible value text', () => {
  it('prints floats like Python repr and integer-valued floats as integers', () => {
    expect([0.1, 1e-5, 0.0001, 123.456, -2.5, 1e-10, 1 / 3].map(pyFloatRepr)).toEqual(['0.1', '1e-05', '0.0001', '123.456', '-2.5', '1e-10', '0.3333333333333333']);
    expect([Infinity, -Infinity, NaN, 1e16].map(pyFloatRepr)).toEqual(['inf', '-inf', 'nan', '1e+16']);
    expect([2024010101, 1e21, -0, 3].map(numberText)).toEqual(['2024010101', '1000000000000000000000', '0', '3']);
  });

  it('strips exactly the characters Python\'s str.strip() strips', () => {
    expect(pyStrip('\u001c\u0085\u00a0\u3000 x \t\n')).toBe('x');
    expect(pyStrip('\ufeffx\u200b')).toBe('\ufeffx\u200b');
    expect(cleanValue(' a\u00a0b ')).toBe('a b');
    expect(cleanHeader('  label   ::  en ')).toBe('label :: en');
  });

  it('converts .xls date serials like xlrd (1900 and 1904 modes), refusing what xlrd refuses', () => {
    expect(xlsDateText(43831, 0)).toBe('2020-01-01 00:00:00');
    expect(xlsDateText(43831.5, 0)).toBe('2020-01-01 12:00:00');
    expect(xlsDateText(0.395833333333, 0)).toBe('09:30:00');
    expect(xlsDateText(0, 0)).toBe('00:00:00');
    expect(xlsDateText(1, 1)).toBe('1904-01-02 00:00:00');
    expect(xlsDateText(61, 0)).toBe('1900-03-01 00:00:00');
    expect(() => xlsDateText(60, 0)).toThrow(/ambiguous/);
    expect(() => xlsDateText(-1, 0)).toThrow(/negative/);
    expect(() => xlsDateText(3e6, 0)).toThrow(/9999/);
  });

  it('converts .xlsx date serials like openpyxl', () => {
    expect(openpyxlDateText(1, false)).toBe('1900-01-01 00:00:00');
    expect(openpyxlDateText(60, false)).toBe('1900-02-28 00:00:00');
    expect(openpyxlDateText(61, false)).toBe('1900-03-01 00:00:00');
    expect(openpyxlDateText(0.25, false)).toBe('06:00:00');
    expect(openpyxlDateText(43831.0000001, false)).toBe('2020-01-01 00:00:00.009000');
    expect(openpyxlDateText(-1, false)).toBe('1899-12-29 00:00:00');
    expect(openpyxlDateText(1e9, false)).toBe('#VALUE!');
    expect(openpyxlDurationText(2.25)).toBe('2 days, 6:00:00');
    expect(openpyxlDurationText(-0.25)).toBe('-1 day, 18:00:00');
    expect(isoDateText('2020-01-02T03:04:05Z')).toBe('2020-01-02 03:04:05');
    expect(isoDateText('2020-01-02')).toBe('2020-01-02');
    expect(isoDateText('13:14')).toBe('13:14:00');
  });

  it('recognises .xls date formats with xlrd\'s heuristic', () => {
    expect(['yyyy-mm-dd', 'd-mmm-yy', 'h:mm AM/PM', '[$-409]dddd, mmmm dd, yyyy'].every(isXlrdDateFormat)).toBe(true);
    expect(['0.00', 'General', '"Yes";"Yes";"No"', '#,##0.00 "days"', '@'].some(isXlrdDateFormat)).toBe(false);
  });
});
