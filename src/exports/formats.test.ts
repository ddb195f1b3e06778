import { describe, expect, it } from 'vitest';
import { parseXForm } from '../xform/index.js';
import { csvLine } from './csv.js';
import { answerCell, buildLayout, emitRows, newRowState, type Cell } from './layout.js';
import { normalizeOptions } from './options.js';
import { geometryOf } from './writers.js';
import { columnName, rowXml, sheetName } from './spreadsheetml.js';

const form = (version: string, body: string, binds: string) => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>T</h:title><model><instance><data id="t" version="${version}">${body}<meta><instanceID/></meta></data></instance>${binds}</model></h:head>
 <h:body/></h:html>`;

describe('export formats', () => {
  it('writes CSV fields quoted only when they must be', () => {
    expect(csvLine(['plain', 'a,b', 'say "hi"', 'two\nlines', 3.5, null, ''])).toBe('plain,"a,b","say ""hi""","two\nlines",3.5,,\r\n');
  });

  it('marks CSV text a spreadsheet would run as a formula, and leaves numbers alone', () => {
    const hostile = ['=HYPERLINK("http://evil.example","x")', '+1+cmd', "-2+3+cmd|' /C calc'!A0", '@SUM(A1)', '\t=1', '\r=1'];
    expect(csvLine(hostile)).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")",'+1+cmd,'-2+3+cmd|' /C calc'!A0,'@SUM(A1),'\t=1,"'\r=1"\r\n`);
    expect(csvLine([-5, '-5', '+3.5', '-1e3', 'a=b', '-1.28 36.8 0 0', '-1.5 36.8 0 0;-1.6 36.9 0 0'])).toBe('-5,-5,+3.5,-1e3,a=b,-1.28 36.8 0 0,-1.5 36.8 0 0;-1.6 36.9 0 0\r\n');
    // Arithmetic on numbers alone still computes in a spreadsheet, and would show another value.
    expect(csvLine(['-2+3', '+1-1', '-1e3+2', '1-1'])).toBe("'-2+3,'+1-1,'-1e3+2,1-1\r\n");
  });

  it('writes XLSX rows as numbers and escaped inline text, leaving out empty cells and characters XML cannot hold', () => {
    const columns = [0, 1, 2, 3].map(columnName);
    expect(rowXml(7, [42, null, '<a & b>\u0001', ' padded'], columns)).toBe(
      '<row r="7"><c r="A7"><v>42</v></c><c r="C7" t="inlineStr"><is><t>&lt;a &amp; b&gt;</t></is></c><c r="D7" t="inlineStr"><is><t xml:space="preserve"> padded</t></is></c></row>',
    );
    expect([0, 25, 26, 701, 702].map(columnName)).toEqual(['A', 'Z', 'AA', 'ZZ', 'AAA']);
    expect(['a/b:c[1]', "'quoted'", '', 'x'.repeat(40)].map(sheetName)).toEqual(['a_b_c_1_', 'quoted', 'data', 'x'.repeat(31)]);
  });

  it('turns geo answers into GeoJSON geometries, longitude first, closing open shapes', () => {
    expect(geometryOf([-1.5, 36.8, null, null], 'geopoint')).toEqual({ type: 'Point', coordinates: [36.8, -1.5] });
    expect(geometryOf([[1, 2, 3, 0], [4, 5, 6, 0], [7, 8, 9, 0]], 'geoshape')).toEqual({ type: 'Polygon', coordinates: [[[2, 1, 3], [5, 4, 6], [8, 7, 9], [2, 1, 3]]] });
    expect(geometryOf('not read', 'geotrace')).toBeNull();
    expect(answerCell([[1, 2, null, null], [3, 4, null, null]], null)).toBe('1 2;3 4');
  });

  it('merges the fields of two versions, placing a dropped field after its old neighbour, and numbers repeat rows across submissions', () => {
    const v2 = parseXForm(form('2', '<a/><c/><r jr:template=""><x/></r>', '<bind nodeset="/data/a" type="int"/><bind nodeset="/data/r/x" type="string"/>'));
    const v1 = parseXForm(form('1', '<a/><b/><c/>', '<bind nodeset="/data/a" type="int"/>'));
    const layout = buildLayout({ xmlFormId: 't', schemas: [v2, v1], options: normalizeOptions({}), encrypted: false });
    expect(layout.tables.map((t) => [t.name, t.columns.slice(0, 3).map((c) => c.header)])).toEqual([
      ['t', ['a', 'b', 'c']],
      ['r', ['r/x', '_index', '_parent_table_name']],
    ]);
    const rowState = newRowState(layout);
    const rows: Array<[string, Cell[]]> = [];
    const meta = { id: 1, uuid: 'u', submissionTime: 't', reviewStatus: null, submittedBy: null, version: '2', deletedAt: null, encrypted: false };
    for (const id of [1, 2]) emitRows(layout, { ...meta, id }, { a: id, r: [{ 'r/x': `x${id}a` }, { 'r/x': `x${id}b` }] }, rowState, true, (table, cells) => rows.push([table.name, cells.slice(0, 4)]));
    expect(rows).toEqual([
      ['t', [1, null, null, 1]],
      ['r', ['x1a', 1, 't', 1]],
      ['r', ['x1b', 2, 't', 1]],
      ['t', [2, null, null, 2]],
      ['r', ['x2a', 3, 't', 2]],
      ['r', ['x2b', 4, 't', 2]],
    ]);
  });
});
