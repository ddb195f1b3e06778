import { describe, expect, it } from 'vitest';
import { el, serialize } from './xml.js';

describe('XML writer', () => {
  it('escapes text and attributes', () => {
    const xml = serialize(el('a', { v: '"x" & <y>' }, ['1 < 2 & 3 > "2"']));
    expect(xml).toBe('<?xml version="1.0"?>\n<a v="&quot;x&quot; &amp; &lt;y&gt;">1 &lt; 2 &amp; 3 &gt; "2"</a>\n');
  });

  it('indents element content and writes mixed content inline', () => {
    const xml = serialize(el('r', {}, [el('label', {}, ['Hi ', el('output', { value: ' /data/a ' }), '!']), el('e')]));
    expect(xml).toBe('<?xml version="1.0"?>\n<r>\n  <label>Hi <output value=" /data/a "/>!</label>\n  <e/>\n</r>\n');
  });

  it('drops characters XML 1.0 forbids', () => {
    expect(serialize(el('a', { v: 'x\u0001' }, ['y\u0000\uFFFEz']))).toBe('<?xml version="1.0"?>\n<a v="x">yz</a>\n');
  });
});
