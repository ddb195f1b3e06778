/*
 * Hostile XML against the three ways XML reaches the server: an OpenRosa submission, an uploaded
 * XForm (form upload API) and an encrypted submission's manifest (an envelope posted to an
 * encrypted form). Every document must be refused with a stable 4xx, fast, within a memory bound,
 * without fetching anything and without touching Object.prototype.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { multipartBody } from '../../src/openrosa/submission-client.test-support.js';
import { describeEachDatabase } from '../support/databases.js';
import { useTestServer } from '../support/server.js';
import { testUserSettings } from '../support/test-users.js';
import { expectAlive, expectRefused, send, submissionHeaders, useHostileTargets } from './hostile-server.js';

/** The root element a document is wrapped in, per target. */
interface Shape {
  open: string;
  close: string;
  /** A child element that holds text in this kind of document. */
  leaf: string;
}

const SUBMISSION: Shape = {
  open: '<data id="survey" version="1" xmlns:orx="http://openrosa.org/xforms">',
  close: '<orx:meta><orx:instanceID>uuid:0badf00d-0000-4000-8000-000000000001</orx:instanceID></orx:meta></data>',
  leaf: 'note',
};
const MANIFEST: Shape = {
  open: '<data xmlns="http://www.opendatakit.org/xforms/encrypted" id="kat_form" version="2024010101" encrypted="yes"><base64EncryptedKey>AAAA</base64EncryptedKey>',
  close:
    '<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:0badf00d-0000-4000-8000-000000000002</orx:instanceID></orx:meta><encryptedXmlFile>submission.xml.enc</encryptedXmlFile></data>',
  leaf: 'base64EncryptedElementSignature',
};
const XFORM: Shape = {
  open: '<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"><h:head><h:title>T</h:title><model><instance><data id="hostile">',
  close: '<meta><instanceID/></meta></data></instance></model></h:head><h:body/></h:html>',
  leaf: 'note',
};

const DECLARATION = '<?xml version="1.0"?>';
const MB = 1024 * 1024;

/** Each hostile document, built for a shape; `network` is the URL an external entity would fetch. */
const documents: Array<{ label: string; kind: 'doctype' | 'structure' | 'size'; build: (shape: Shape, network: string) => Buffer }> = [
  {
    label: 'an external entity reading a file (XXE)',
    kind: 'doctype',
    build: (s) => text(`${DECLARATION}<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${s.open}<${s.leaf}>&xxe;</${s.leaf}>${s.close}`),
  },
  {
    label: 'external entities fetched over the network (XXE, also a parameter entity)',
    kind: 'doctype',
    build: (s, network) =>
      text(`${DECLARATION}<!DOCTYPE data [<!ENTITY % remote SYSTEM "${network}/dtd"> %remote; <!ENTITY xxe SYSTEM "${network}/entity">]>${s.open}<${s.leaf}>&xxe;</${s.leaf}>${s.close}`),
  },
  {
    label: 'billion laughs',
    kind: 'doctype',
    build: (s) => {
      const entities = ['<!ENTITY lol0 "lol">'];
      for (let i = 1; i <= 9; i += 1) entities.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
      return text(`${DECLARATION}<!DOCTYPE data [${entities.join('')}]>${s.open}<${s.leaf}>&lol9;</${s.leaf}>${s.close}`);
    },
  },
  {
    label: 'quadratic blow-up (a 50,000-character entity used 50,000 times)',
    kind: 'doctype',
    build: (s) => text(`${DECLARATION}<!DOCTYPE data [<!ENTITY a "${'a'.repeat(50_000)}">]>${s.open}<${s.leaf}>${'&a;'.repeat(50_000)}</${s.leaf}>${s.close}`),
  },
  {
    label: '200,000-deep nesting',
    kind: 'structure',
    build: (s) => text(`${DECLARATION}${s.open}${'<g>'.repeat(200_000)}${'</g>'.repeat(200_000)}${s.close}`),
  },
  {
    label: '100,000 attributes on one element',
    kind: 'structure',
    build: (s) => text(`${DECLARATION}${s.open}<${s.leaf} ${Array.from({ length: 100_000 }, (_, i) => `a${i}="${i}"`).join(' ')}/>${s.close}`),
  },
  {
    label: 'an element named __proto__',
    kind: 'structure',
    build: (s) => text(`${DECLARATION}${s.open}<__proto__><polluted>yes</polluted></__proto__>${s.close}`),
  },
  {
    label: 'an attribute named __proto__',
    kind: 'structure',
    build: (s) => text(`${DECLARATION}${s.open}<${s.leaf} __proto__="polluted">x</${s.leaf}>${s.close}`),
  },
  {
    label: 'an element named constructor holding prototype',
    kind: 'structure',
    build: (s) => text(`${DECLARATION}${s.open}<constructor><prototype><polluted>yes</polluted></prototype></constructor>${s.close}`),
  },
  {
    label: 'invalid UTF-8',
    kind: 'structure',
    build: (s) => Buffer.concat([text(`${DECLARATION}${s.open}<${s.leaf}>`), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), text(`</${s.leaf}>${s.close}`)]),
  },
  {
    label: 'a declared encoding other than UTF-8',
    kind: 'structure',
    build: (s) => text(`<?xml version="1.0" encoding="UTF-7"?>${s.open}<${s.leaf}>+ADw-</${s.leaf}>${s.close}`),
  },
  {
    label: 'a 50 MB document',
    kind: 'size',
    build: (s) => Buffer.concat([text(`${DECLARATION}${s.open}<${s.leaf}>`), Buffer.alloc(50 * MB, 'a'), text(`</${s.leaf}>${s.close}`)]),
  },
];

function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

/** Codes the submission endpoint may answer a document of this kind with. */
const submissionCodes = {
  doctype: ['submission.doctype_forbidden'],
  structure: ['submission.invalid_xml'],
  size: ['submission.too_large'],
} as const;
/** An envelope also passes the manifest reader, which refuses elements it does not know. */
const manifestCodes = { ...submissionCodes, structure: ['submission.invalid_xml', 'submission.invalid_envelope'] } as const;
const formCodes = { doctype: ['form.invalid_xform'], structure: ['form.invalid_xform'], size: ['request.body_too_large'] } as const;

describeEachDatabase('hostile XML', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const targets = useHostileTargets(env);
  /** A listener an external entity would reach; nothing may ever arrive. */
  let entityServer: Server;
  let fetchedByServer = 0;
  let network = '';

  beforeAll(async () => {
    entityServer = createServer((_request, response) => {
      fetchedByServer += 1;
      response.end('<!ENTITY leaked "yes">');
    });
    await new Promise<void>((resolve) => entityServer.listen(0, '127.0.0.1', resolve));
    network = `http://127.0.0.1:${(entityServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => entityServer.close(resolve));
    expect(fetchedByServer).toBe(0);
  });

  const postSubmission = (xml: Buffer, chunked = false) => {
    const body = multipartBody([{ name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: xml }]);
    return () => send(targets().submissionUrl, 'POST', submissionHeaders(targets().owner, body.contentType), body.body, { chunked });
  };
  const postForm = (xml: Buffer, chunked = false) => () =>
    send(targets().formsUrl, 'POST', { ...targets().owner.headers, 'content-type': 'application/xml' }, xml, { chunked });

  for (const document of documents) {
    it(`refuses ${document.label} as a submission`, async () => {
      await expectRefused(env(), postSubmission(document.build(SUBMISSION, network)), submissionCodes[document.kind]);
    });
    it(`refuses ${document.label} as an encrypted submission's manifest`, async () => {
      await expectRefused(env(), postSubmission(document.build(MANIFEST, network)), manifestCodes[document.kind]);
    });
    it(`refuses ${document.label} as an uploaded XForm`, async () => {
      await expectRefused(env(), postForm(document.build(XFORM, network)), formCodes[document.kind]);
    });
  }

  const big = documents.find((d) => d.kind === 'size')!;
  it('refuses a 50 MB document sent without a declared length (chunked) as a submission, and drops the connection', async () => {
    const refusal = await expectRefused(env(), postSubmission(big.build(SUBMISSION, network), true), submissionCodes.size);
    // The body was not read to its end: the connection is not kept for another request.
    expect(refusal.headers.connection).toBe('close');
  });
  it('refuses a 50 MB document sent without a declared length (chunked) as an uploaded XForm', async () => {
    await expectRefused(env(), postForm(big.build(XFORM, network), true), formCodes.size);
  });

  it('leaves Object.prototype untouched and still takes a valid submission', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const body = multipartBody([{ name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: targets().validSubmission() }]);
    const accepted = await send(targets().submissionUrl, 'POST', submissionHeaders(targets().owner, body.contentType), body.body);
    expect(accepted.status, accepted.body).toBe(201);
    await expectAlive(env());
  });
});
