/*
 * Property-based fuzzing (fast-check) of the three parsers that take bytes from strangers: the XML
 * reader (src/xform/xml.ts), the XLSForm workbook reader (src/xlsform/workbook) and the multipart
 * intake of the OpenRosa submission endpoint. The property is always the same: any input ends in a
 * result or in the module's own refusal (a typed error, or a catalogued 4xx), never in another
 * exception, a 5xx or a dead server.
 *
 * CI runs a fixed seed with few runs. A longer local run:
 *   FIELDKEEP_FUZZ_RUNS=20000 FIELDKEEP_FUZZ_SEED=$RANDOM npx vitest run test/security/fuzz.test.ts
 * A failure prints the seed and path that reproduce it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { multipartBody } from '../../src/openrosa/submission-client.test-support.js';
import { errorCatalogue } from '../../src/server/errors.js';
import { XmlError, parseXmlTree } from '../../src/xform/index.js';
import { buildXlsx } from '../../src/xlsform/workbook/fixtures.test-support.js';
import { WorkbookError, readWorkbook } from '../../src/xlsform/workbook/index.js';
import { describeEachDatabase } from '../support/databases.js';
import { useTestServer } from '../support/server.js';
import { testUserSettings } from '../support/test-users.js';
import { expectAlive, send, submissionHeaders, useHostileTargets } from './hostile-server.js';

const seed = Number(process.env.FIELDKEEP_FUZZ_SEED ?? 20261129);
/** Runs per property; the server property does a tenth of them (each is an HTTP request). */
const runs = Number(process.env.FIELDKEEP_FUZZ_RUNS ?? 300);
const long = process.env.FIELDKEEP_FUZZ_RUNS !== undefined;
const settings = { seed, numRuns: runs };
const timeout = long ? 0 : 30_000;

/** XML-looking token soup: markup fragments reach deeper into the parser than random text. */
const xmlToken = fc.oneof(
  fc.constantFrom('<', '>', '/>', '</', '<a>', '</a>', '<b x="1">', '</b>', '<?xml version="1.0"?>', '<!DOCTYPE a [<!ENTITY e "x">]>', '&e;', '&amp;', '&#x0;', '&#65;'),
  fc.constantFrom('<![CDATA[', ']]>', '<!--', '-->', '<?pi x?>', 'xmlns:p="u"', '<p:c>', '</p:c>', '<__proto__>', '<constructor>', '=', '"', "'", ' ', '\u0000', '\ud800'),
  fc.string({ maxLength: 8 }),
);
const xmlSoup = fc.array(xmlToken, { maxLength: 60 }).map((tokens) => tokens.join(''));

function refusedAs<T extends Error>(type: new (...args: never[]) => T, work: () => unknown): void {
  try {
    work();
  } catch (error) {
    if (!(error instanceof type)) throw error;
  }
}

describe('fuzz: XML reader', () => {
  it('ends every string in a tree or an XmlError', () => {
    fc.assert(
      fc.property(fc.oneof(xmlSoup, fc.string({ maxLength: 200 })), (input) => {
        refusedAs(XmlError, () => parseXmlTree(input, { maxDepth: 8, maxElements: 100, maxTextLength: 1000 }));
      }),
      settings,
    );
  }, timeout);

  it('ends every byte sequence in a tree or an XmlError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        refusedAs(XmlError, () => parseXmlTree(bytes));
      }),
      settings,
    );
  }, timeout);

  it('reads back the text of any well-formed element it is given', () => {
    const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    // XML 1.0 Char: no C0 controls except tab, LF, CR (CR is normalised), no lone surrogates or U+FFFE/F.
    const xmlText = fc.string({ unit: 'grapheme', maxLength: 100 }).map((text) => text.replace(/[\u0000-\u0008\u000b-\u001f\ufffe\uffff]/g, ''));
    fc.assert(
      fc.property(xmlText, (text) => {
        const root = parseXmlTree(`<a>${escape(text)}</a>`);
        expect(root.children.join('')).toBe(text);
      }),
      settings,
    );
  }, timeout);
});

describe('fuzz: XLSForm workbook reader', () => {
  const valid = buildXlsx({
    sheets: [{ name: 'survey', xml: '<sheetData><row r="1"><c t="inlineStr"><is><t>type</t></is></c><c t="inlineStr"><is><t>name</t></is></c></row><row r="2"><c t="inlineStr"><is><t>text</t></is></c><c t="inlineStr"><is><t>q</t></is></c></row></sheetData>' }],
  });
  /** A valid workbook with some bytes overwritten and possibly cut short. */
  const mutated = fc
    .tuple(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat({ max: valid.length }))
    .map(([flips, cut]) => {
      const bytes = Buffer.from(valid);
      for (const [at, value] of flips) bytes[at] = value;
      return cut > valid.length / 2 ? bytes : bytes.subarray(0, cut);
    });
  const zipPrefixed = fc.uint8Array({ maxLength: 400 }).map((tail) => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), tail]));
  const cfbPrefixed = fc.uint8Array({ maxLength: 1200 }).map((tail) => Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), tail]));

  it('ends every damaged workbook in sheets or a WorkbookError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, zipPrefixed, cfbPrefixed), async (bytes) => {
        await readWorkbook(bytes, 'fuzz.xlsx').catch((error: unknown) => {
          if (!(error instanceof WorkbookError)) throw error;
        });
      }),
      settings,
    );
  }, timeout);
});

describeEachDatabase('fuzz: multipart submission intake', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const targets = useHostileTargets(env);
  const catalogued = new Set(Object.keys(errorCatalogue));

  it('answers every damaged multipart body with a success or a catalogued 4xx, and stays up', async () => {
    const valid = () =>
      multipartBody(
        [
          { name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: targets().validSubmission() },
          { name: 'photo.jpg', filename: 'photo.jpg', contentType: 'image/jpeg', body: 'JPEG' },
          { name: '*isIncomplete*', body: 'yes' },
        ],
        { boundary: 'fuzzboundary', partLengths: true },
      );
    const length = valid().body.length;
    const damage = fc.record({
      flips: fc.array(fc.tuple(fc.nat({ max: length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      inserts: fc.array(fc.tuple(fc.nat({ max: length }), fc.constantFrom('\r\n', '--fuzzboundary', '\r\n\r\n', '"', ';', 'name=', '\u0000', '../')), { maxLength: 3 }),
      cut: fc.option(fc.nat({ max: length }), { nil: undefined }),
      contentType: fc.constantFrom('multipart/form-data; boundary=fuzzboundary', 'multipart/form-data', 'multipart/form-data; boundary=other', 'multipart/form-data; boundary="fuzzboundary"'),
    });
    await fc.assert(
      fc.asyncProperty(damage, async ({ flips, inserts, cut, contentType }) => {
        let body = valid().body;
        for (const [at, value] of flips) body[at] = value;
        for (const [at, text] of inserts) body = Buffer.concat([body.subarray(0, at), Buffer.from(text, 'latin1'), body.subarray(at)]);
        if (cut !== undefined) body = body.subarray(0, cut);
        const response = await send(targets().submissionUrl, 'POST', submissionHeaders(targets().owner, contentType), body);
        if (response.status === 201 || response.status === 202) return;
        const code = response.headers['x-fieldkeep-error'];
        expect(response.status, `${response.status} ${String(code)}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${response.status} ${String(code)}: ${response.body.slice(0, 200)}`).toBeLessThan(500);
        expect(catalogued.has(String(code)), String(code)).toBe(true);
      }),
      { seed, numRuns: Math.max(10, Math.round(runs / 10)) },
    );
    await expectAlive(env());
  }, long ? 0 : 60_000);
});
