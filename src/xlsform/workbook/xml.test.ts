import { describe, expect, it } from 'vitest';
import { WorkbookError } from './errors.js';
import { parseXml } from './xml.js';
import type { ScanSizes } from './xml.js';

/** Events as lines; consecutive text pieces are joined, as readers join them. */
function events(xml: string | Uint8Array, sizes?: ScanSizes): string[] {
  const log: string[] = [];
  const text = (piece: string): void => {
    if (log.at(-1)?.startsWith('text ')) log[log.length - 1] += piece;
    else log.push(`text ${piece}`);
  };
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  parseXml('part.xml', bytes, {
    open: (name, attrs) => log.push(`open ${name} ${JSON.stringify(Object.fromEntries(attrs.names().map((n) => [n, attrs.get(n)])))}`),
    close: (name) => log.push(`close ${name}`),
    text,
  }, sizes);
  return log;
}

function refusal(xml: string, sizes?: ScanSizes): WorkbookError {
  try {
    events(xml, sizes);
  } catch (err) {
    expect(err, xml).toBeInstanceOf(WorkbookError);
    return err as WorkbookError;
  }
  return expect.fail(`accepted: ${xml}`);
}

const tiny: ScanSizes = { windowBytes: 5, maxMarkupChars: 40 };

describe('workbook XML scanner', () => {
  it('reports elements by local name, attributes as written, and resolved text', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<!-- saved --><?mso-application progid="Excel.Sheet"?><?pi?>'
      + '<x:sst xmlns:x="urn:x" count=\'2\'><x:si><x:t xml:space="preserve">a &amp; b &lt;c&gt; &#65;&#x42;&quot;&apos;\r\nline\rend</x:t></x:si>'
      + '<x:si><x:t><![CDATA[<raw> & ]]></x:t><x:r a="1&#10;2\t3\r\n4 &amp;"/></x:si></x:sst>\n';
    expect(events(xml)).toEqual([
      'open sst {"xmlns:x":"urn:x","count":"2"}',
      'open si {}',
      'open t {"xml:space":"preserve"}',
      'text a & b <c> AB"\'\nline\nend',
      'close t',
      'close si',
      'open si {}',
      'open t {}',
      'text <raw> & ',
      'close t',
      'open r {"a":"1\\n2 3 4 &"}',
      'close r',
      'close si',
      'close sst',
    ]);
  });

  it('reads UTF-16 parts and names beyond ASCII', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<feuille état="ok">\u{1F600}</feuille>', 'utf16le')]);
    expect(events(utf16)).toEqual(['open feuille {"état":"ok"}', 'text \u{1F600}', 'close feuille']);
    expect(events('<\u{10000}a/>')).toEqual(['open \u{10000}a {}', 'close \u{10000}a']);
  });

  it('gives the same events when the part is decoded in small windows and long text comes in pieces', () => {
    const row = (i: number): string => `<row r="${i}"><c t="inlineStr"><is><t>${'é😀 x&amp;y &#x1F600; ]] >\r\n'.repeat(i % 7)}</t></is></c><!-- c${i} --><c><v>${i}</v></c></row>`;
    const xml = `<?xml version="1.0"?><sheetData>${Array.from({ length: 60 }, (_, i) => row(i)).join('\r\n')}</sheetData>`;
    expect(events(xml, tiny)).toEqual(events(xml));
    expect(events(xml, { windowBytes: 7, maxMarkupChars: 24 })).toEqual(events(xml));
  });

  it('refuses a DOCTYPE with its own code', () => {
    const err = refusal('<!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>');
    expect(err.code).toBe('xml.doctype_forbidden');
  });

  it.each([
    ['', /no root element/],
    ['<a>', /never closed/],
    ['<a></b>', /does not match/],
    ['<a/></a>', /no start tag/],
    ['<a/><b/>', /follows the root/],
    ['text<a/>', /outside the root/],
    ['<a/>tail', /outside the root/],
    ['<a b=1/>', /quoted value/],
    ['<a b="<"/>', /"<" in it/],
    ['<a b="1"b="2"/>', /not well-formed/],
    ['<a b="1" b="2"/>', /attribute b twice/],
    ['<a b/>', /malformed attribute/],
    ['<a>&nbsp;</a>', /reference/],
    ['<a>&#0;</a>', /reference/],
    ['<a>a & b</a>', /reference/],
    ['<a b="&x;"/>', /reference/],
    ['<a>]]></a>', /"]]>"/],
    ['<a>\u0001</a>', /character XML does not allow/],
    ['<a>\uffff</a>', /character XML does not allow/],
    ['<a><!-- a -- b --></a>', /"--"/],
    ['<a><!-- a ---></a>', /"--"/],
    ['<a><!-- open</a>', /never closed/],
    ['<![CDATA[x]]><a/>', /CDATA section lies outside/],
    ['<a><![CDATA[x</a>', /never closed/],
    ['<a><!ELEMENT a ANY></a>', /neither a comment/],
    ['<a/><?xml version="1.0"?>', /XML declaration/],
    ['<?xml version="2"?><a/>', /invalid XML declaration/],
    ['<?pi-x?><a><?target!?></a>', /processing instruction/],
    ['< a/>', /valid tag/],
    ['<1a/>', /valid tag/],
    ['<a></a >x', /outside the root/],
    ['<a></ a>', /end tag/],
  ])('refuses malformed XML: %j', (xml, reason) => {
    const err = refusal(xml);
    expect(err.code).toBe('xlsform.malformed_workbook');
    expect(err.message).toMatch(reason);
    expect(err.message).toMatch(/part\.xml.*line 1, column \d+/);
  });

  it('finds "]]>" and bad references across the cut of a long text run', () => {
    for (let at = 30; at < 50; at++) {
      const before = 'x'.repeat(at);
      expect(refusal(`<a>${before}]]>${'y'.repeat(60)}</a>`, tiny).message, `offset ${at}`).toMatch(/"]]>"/);
      expect(events(`<a>${before}&amp;${'y'.repeat(60)}</a>`, tiny), `offset ${at}`).toEqual(['open a {}', `text ${before}&${'y'.repeat(60)}`, 'close a']);
    }
  });

  it('caps nesting depth and the length of one piece of markup, and names the line', () => {
    expect(refusal(`${'<a>'.repeat(65)}${'</a>'.repeat(65)}`).message).toMatch(/deeper than 64/);
    expect(refusal(`<a>\n<!-- ${'x'.repeat(100)} --></a>`, tiny).message).toMatch(/longer than 40 characters.*line 2/);
    expect(refusal(`<a>\n\n<b c="${'x'.repeat(100)}"/></a>`, tiny).message).toMatch(/<b> is longer than 40 characters.*line 3/);
  });
});
