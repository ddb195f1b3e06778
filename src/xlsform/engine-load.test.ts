// @vitest-environment jsdom
/*
 * Every XForm we emit must open in ODK's own engine (@getodk/xforms-engine, pinned), wherever
 * pyxform's XForm for the same workbook opens. pyxform's outputs are loaded too: they prove the
 * harness works and keep the list of forms the engine refuses even from pyxform honest.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadInOdkEngine } from '../../test/support/odk-engine.js';
import { convertibleCorpusForms } from '../../test/support/xlsform-corpus.js';
import { convertXlsForm } from './index.js';

/**
 * Forms whose pyxform 4.5.0 XForm the engine (0.22.0) refuses, with the engine's message. The
 * workbooks hold expressions that are not XPath (a missing parenthesis, an unterminated string,
 * an axis named `label::`), which pyxform copies into the XForm unchecked, as we do.
 */
const engineRefusesPyxformOutput: ReadonlyMap<string, string> = new Map([
  ['onadata__error_test_form.xlsx', 'Expression has syntax error: if( /data/num <1,0,1'],
  ['pyxform__bad_calc.xlsx', "Expression has syntax error: because pyxform doesn't know what to do"],
  ['pyxform__xl_date_ambiguous.xlsx', "Expression has syntax error: instance('names_list')/root/item[label::English != '']"],
]);

const forms = convertibleCorpusForms();

function minimalXForm(bind: string): string {
  return `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
  <h:head><h:title>t</h:title>
    <model><instance><data id="t"><a/><meta><instanceID/></meta></data></instance>${bind}</model>
  </h:head>
  <h:body><input ref="/data/a"><label>A</label></input></h:body>
</h:html>`;
}

describe('the ODK engine harness', () => {
  it('loads a minimal valid form', async () => {
    expect(await loadInOdkEngine(minimalXForm('<bind nodeset="/data/a" type="string"/>'))).toEqual({ loaded: true });
  });

  it.each([
    ['malformed XML', '<h:html', 'Failed to evaluate'],
    ['an XPath syntax error', minimalXForm('<bind nodeset="/data/a" type="string" relevant="1 +"/>'), 'Expression has syntax error: 1 +'],
    // Found only when an instance is created: loading alone accepts it.
    ['an unknown XPath function', minimalXForm('<bind nodeset="/data/a" type="string" calculate="no-such-function(1)"/>'), "Function 'no-such-function' is not defined"],
  ])('reports %s as a load failure', async (_problem, xform, message) => {
    expect(await loadInOdkEngine(xform)).toEqual({ loaded: false, message: expect.stringContaining(message) });
  });
});

describe("pyxform's XForms in the ODK engine", () => {
  it.each(forms.map((form) => [form.name, form.expected] as const))('%s', async (name, expected) => {
    const outcome = await loadInOdkEngine(readFileSync(expected, 'utf8'));
    const refusal = engineRefusesPyxformOutput.get(name);
    if (refusal === undefined) expect(outcome).toEqual({ loaded: true });
    else expect(outcome).toEqual({ loaded: false, message: expect.stringContaining(refusal) });
  });
});

describe('our XForms in the ODK engine, for every form whose pyxform XForm loads', () => {
  const loadable = forms.filter((form) => !engineRefusesPyxformOutput.has(form.name));
  it.each(loadable.map((form) => [form.name, form.workbook] as const))('%s', async (name, workbook) => {
    const { xform, errors } = await convertXlsForm(readFileSync(workbook), name);
    expect(errors).toEqual([]);
    expect(await loadInOdkEngine(xform)).toEqual({ loaded: true });
  });
});
