/*
 * Loads an XForm in ODK's own form engine (@getodk/xforms-engine, the engine of ODK Web Forms)
 * to prove a form opens in a real ODK client, not merely that its XML looks right.
 *
 * Running the engine in Node needs two things it does not bring itself:
 * - a DOM: the engine parses the form with DOMParser and walks it with DOM nodes. Test files that
 *   use this module run in Vitest's jsdom environment (`// @vitest-environment jsdom`).
 * - two CommonJS globals during its import: the engine bundles web-tree-sitter, an Emscripten
 *   build that, on seeing Node, runs its Node set-up, which assigns `module.exports` and reads
 *   `__dirname`. Both are undefined in an ES module, so the import would throw. The engine hands
 *   the parser its WebAssembly as inline bytes, so neither value is used for anything but that
 *   set-up: they are defined for the import only and removed afterwards.
 *
 * A form's external files (jr://file-csv/…, jr://file/….xml, ….geojson) are not in the corpus:
 * each is served as the smallest valid file of its format (a CSV header row, an empty XML root, an
 * empty feature collection). That checks the form's references and expressions without data;
 * anything else is answered 404, which the engine then treats as blank.
 */
import type { FetchFormAttachment, FetchResourceResponse, LoadFormResult } from '@getodk/xforms-engine';

type Engine = typeof import('@getodk/xforms-engine');

export type EngineLoadOutcome = { loaded: true } | { loaded: false; message: string };

let engine: Promise<Engine> | undefined;

async function importEngine(): Promise<Engine> {
  if (typeof DOMParser === 'undefined') {
    throw new Error('ODK engine needs a DOM: run this test file with "// @vitest-environment jsdom" as its first line.');
  }
  const scope = globalThis as Record<string, unknown>;
  scope.__dirname = '/';
  scope.module = { exports: {} };
  try {
    return await import('@getodk/xforms-engine');
  } finally {
    delete scope.__dirname;
    delete scope.module;
  }
}

const minimalAttachments: ReadonlyArray<{ extension: string; contentType: string; body: string }> = [
  { extension: '.csv', contentType: 'text/csv', body: 'name,label\n' },
  { extension: '.xml', contentType: 'text/xml', body: '<root/>' },
  { extension: '.geojson', contentType: 'application/geo+json', body: '{"type":"FeatureCollection","features":[]}' },
];

function response(status: number, contentType: string, body: string): FetchResourceResponse {
  return {
    ok: status === 200,
    status,
    headers: new Headers({ 'content-type': contentType }),
    text: async () => body,
    blob: async () => new Blob([body], { type: contentType }),
  };
}

const fetchMinimalAttachment: FetchFormAttachment = async (url) => {
  const match = minimalAttachments.find((attachment) => url.href.toLowerCase().endsWith(attachment.extension));
  return match ? response(200, match.contentType, match.body) : response(404, 'text/plain', '');
};

function describeFailure(result: LoadFormResult): string {
  const error = result.error;
  if (!error) return `status ${result.status}`;
  const causes = error.errors.map((cause: unknown) => (cause instanceof Error ? cause.message : String(cause)));
  return causes.length > 0 ? causes.join('; ') : error.message;
}

/** Load the form and create a blank instance of it, as a client does when a user opens it. */
export async function loadInOdkEngine(xform: string): Promise<EngineLoadOutcome> {
  engine ??= importEngine();
  const { loadForm } = await engine;
  const result = await loadForm(xform, { fetchFormAttachment: fetchMinimalAttachment, missingResourceBehavior: 'BLANK' });
  if (result.status === 'failure') return { loaded: false, message: describeFailure(result) };
  try {
    result.createInstance();
  } catch (err) {
    return { loaded: false, message: `the form loaded but no instance could be created: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { loaded: true };
}
