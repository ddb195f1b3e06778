import { describe, expect, it } from 'vitest';
import { convertSheets } from './convert.test-support.js';
import { convertXlsForm } from './index.js';
import { MAX_NESTING } from './parse.js';

describe('convertXlsForm on hostile or broken input', () => {
  it('returns an error, not an exception, for bytes that are not a workbook', async () => {
    const result = await convertXlsForm(new TextEncoder().encode('definitely not a spreadsheet'), 'form.xlsx');
    expect(result.xform).toBe('');
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.code).toMatch(/^xlsform\./);
  });

  it('refuses groups nested deeper than the limit, quickly', () => {
    const rows = [['type', 'name', 'label']];
    for (let i = 0; i < 5000; i += 1) rows.push(['begin_group', `g${i}`, 'G']);
    const started = performance.now();
    const result = convertSheets({ survey: rows });
    expect(result.errors[0]).toMatchObject({ code: 'xlsform.too_deep', row: MAX_NESTING + 2 });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('ignores header names that look like object internals', () => {
    const result = convertSheets({ survey: [['type', 'name', 'label', '__proto__', 'constructor'], ['text', 'a', 'A', 'x', 'y']] });
    expect(result.errors).toEqual([]);
    expect(result.xform).toContain('<a/>');
  });

  it('drops characters XML cannot carry instead of emitting an unreadable form', () => {
    const result = convertSheets({ survey: [['type', 'name', 'label'], ['note', 'n', 'bell\u0007 & <tag>']] });
    expect(result.xform).toContain('<label>bell &amp; &lt;tag&gt;</label>');
  });
});

describe('limits on pathological headers', () => {
  it('refuses a header split into absurdly many parts instead of recursing on it', () => {
    const header = `label${'::x'.repeat(5000)}`;
    const result = convertSheets({ survey: [['type', 'name', header], ['text', 'a', 'A']] });
    expect(result.errors[0]?.code).toBe('xlsform.bad_column');
  });
});
