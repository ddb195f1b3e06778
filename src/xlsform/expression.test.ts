import { describe, expect, it } from 'vitest';
import { ReferenceSyntaxError, isDynamicDefault, isXmlTag, parseReferences, tokenize } from './expression.js';

describe('names', () => {
  it('accepts XML names and prefixed names, rejects the rest', () => {
    expect(['a', '_a', 'a-b.c1', 'jr:count', 'été'].map(isXmlTag)).toEqual([true, true, true, true, true]);
    expect(['1a', '-a', 'a b', '', 'a:b:c'].map(isXmlTag)).toEqual([false, false, false, false, false]);
  });

  it('keeps pyxform’s quirk: À–Ö cannot start a name', () => {
    expect(isXmlTag('Àa')).toBe(false);
    expect(isXmlTag('aÀ')).toBe(false);
    expect(isXmlTag('Øa')).toBe(true);
  });
});

describe('tokens and dynamic defaults', () => {
  it('lexes by rule priority, first match wins', () => {
    expect(tokenize('today() - 1').map((t) => t.type)).toEqual(['FUNC_CALL', 'CLOSE_PAREN', 'WHITESPACE', 'OPS_MATH', 'WHITESPACE', 'NUMBER']);
    expect(tokenize('5-3').map((t) => t.type)).toEqual(['NUMBER', 'NUMBER']);
    expect(tokenize('2020-01-31').map((t) => t.type)).toEqual(['DATE']);
  });

  it('treats literals as static and expressions as dynamic', () => {
    expect(isDynamicDefault('42')).toBe(false);
    expect(isDynamicDefault('hello world')).toBe(false);
    expect(isDynamicDefault('now()')).toBe(true);
    expect(isDynamicDefault('${a} + 1')).toBe(true);
    expect(isDynamicDefault('1 + 1')).toBe(true);
    expect(isDynamicDefault('2020-01-31', 'date')).toBe(false);
    expect(isDynamicDefault('a - b', 'date')).toBe(false);
  });
});

describe('references', () => {
  it('finds plain and last-saved references', () => {
    expect(parseReferences('${a} + ${last-saved#b}')).toEqual([
      { name: 'a', lastSaved: false },
      { name: 'b', lastSaved: true },
    ]);
  });

  it('rejects malformed ones and enforces a limit', () => {
    expect(() => parseReferences('${a b}')).toThrow(ReferenceSyntaxError);
    expect(() => parseReferences('${a')).toThrow(ReferenceSyntaxError);
    expect(() => parseReferences('${a}${b}', 1)).toThrow(ReferenceSyntaxError);
    expect(parseReferences('cost in $ {x}')).toEqual([]);
  });
});
