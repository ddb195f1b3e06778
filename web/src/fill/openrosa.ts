/**
 * The fill page speaks to the server the way ODK Collect does, through the OpenRosa addresses
 * (docs/openrosa.md), so a browser submission takes the one path every phone's takes:
 * `{base}/formList`, `{base}/forms/{id}/form.xml`, `…/media/{name}`, and `HEAD` and `POST
 * {base}/submission`, where `{base}` is `/projects/{id}` for a signed-in member (the session
 * cookie, with the CSRF token on the POST) or `/key/{token}/projects/{id}` for a public link.
 *
 * Form documents are kept in the browser's cache (`fieldkeep-fill-forms`) as they are fetched:
 * without a connection they are answered from there, so a form opened once can be filled offline.
 */
import type { FormTarget, StoredPart } from './store.js';

const FORMS_CACHE = 'fieldkeep-fill-forms';
const XFORMS_LIST_NS = 'http://openrosa.org/xforms/xformsList';

/** The server refused: the HTTP status, the stable code (X-Fieldkeep-Error) and the message Collect would show. */
export class OpenRosaError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** No answer at all (offline, server down) and nothing kept in the browser for this request. */
export class Unreachable extends Error {}

export function serverBase(target: FormTarget): string {
  const project = `/projects/${encodeURIComponent(target.projectId)}`;
  return target.key === null ? project : `/key/${encodeURIComponent(target.key)}${project}`;
}

function formBase(target: FormTarget): string {
  return `${serverBase(target)}/forms/${encodeURIComponent(target.formId)}`;
}

const openRosaHeaders = { 'x-openrosa-version': '1.0' };

async function refusal(response: Response): Promise<OpenRosaError> {
  const code = response.headers.get('x-fieldkeep-error') ?? `http.${response.status}`;
  const text = await response.text();
  let message = '';
  if (text.trim().startsWith('<')) {
    const document = new DOMParser().parseFromString(text, 'application/xml');
    message = document.getElementsByTagNameNS('*', 'message')[0]?.textContent?.trim() ?? '';
  }
  return new OpenRosaError(response.status, code, message === '' ? `The server answered ${response.status}.` : message);
}

/** A form document from the network, kept for later; from the browser's cache when there is no network. */
async function fetchDocument(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { headers: openRosaHeaders, credentials: 'same-origin' });
  } catch {
    const kept = typeof caches === 'undefined' ? undefined : await caches.match(url, { cacheName: FORMS_CACHE });
    if (kept === undefined) throw new Unreachable(url);
    return kept;
  }
  if (response.ok && typeof caches !== 'undefined') await (await caches.open(FORMS_CACHE)).put(url, response.clone());
  return response;
}

export interface FormListEntry {
  title: string;
  version: string;
}

/** The form as the form list offers it, or null when it is not offered (closed, closing, or not published). */
export async function formListEntry(target: FormTarget): Promise<FormListEntry | null> {
  const response = await fetchDocument(`${serverBase(target)}/formList?formID=${encodeURIComponent(target.formId)}`);
  if (!response.ok) throw await refusal(response);
  const document = new DOMParser().parseFromString(await response.text(), 'application/xml');
  for (const item of Array.from(document.getElementsByTagNameNS(XFORMS_LIST_NS, 'xform'))) {
    const read = (name: string) => item.getElementsByTagNameNS(XFORMS_LIST_NS, name)[0]?.textContent?.trim() ?? '';
    if (read('formID') === target.formId) return { title: read('name'), version: read('version') };
  }
  return null;
}

export async function formXml(target: FormTarget): Promise<string> {
  const response = await fetchDocument(`${formBase(target)}/form.xml`);
  if (!response.ok) throw await refusal(response);
  return response.text();
}

/** A media file of the form; the engine reads a 404 as "not uploaded" and leaves it blank. */
export async function formMedia(target: FormTarget, name: string): Promise<Response> {
  return fetchDocument(`${formBase(target)}/media/${encodeURIComponent(name)}`);
}

/**
 * The submission pre-flight Collect makes: whether this person (or link) may submit, and the
 * largest POST the server takes (X-OpenRosa-Accept-Content-Length).
 */
export async function submissionLimit(target: FormTarget): Promise<number | null> {
  let response: Response;
  try {
    response = await fetch(`${serverBase(target)}/submission`, { method: 'HEAD', headers: openRosaHeaders, credentials: 'same-origin' });
  } catch {
    throw new Unreachable('submission');
  }
  if (response.status !== 204) {
    // A HEAD answer has no body: the code alone says what happened.
    throw new OpenRosaError(response.status, response.headers.get('x-fieldkeep-error') ?? `http.${response.status}`, '');
  }
  const limit = Number(response.headers.get('x-openrosa-accept-content-length'));
  return Number.isFinite(limit) && limit > 0 ? limit : null;
}

let csrfToken: string | null = null;

/** The signed-in member's CSRF token (kept in memory only), or null when nobody is signed in. */
export async function currentCsrfToken(refresh = false): Promise<string | null> {
  if (csrfToken !== null && !refresh) return csrfToken;
  let response: Response;
  try {
    response = await fetch('/api/v1/sessions/current', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  } catch {
    throw new Unreachable('session');
  }
  if (response.status === 401) return (csrfToken = null);
  if (!response.ok) throw new Unreachable('session');
  csrfToken = ((await response.json()) as { csrfToken: string }).csrfToken;
  return csrfToken;
}

export type Delivery = 'created' | 'duplicate';

/**
 * Posts one submission as Collect does. 201 is a new submission, 202 one the server already had
 * (a retry after an answer that never arrived: harmless, the instanceID makes it the same one).
 */
export async function postSubmission(target: FormTarget, parts: readonly StoredPart[]): Promise<Delivery> {
  const body = new FormData();
  for (const part of parts) body.append(part.field, new File([part.blob], part.fileName, { type: part.type }));
  const send = async (token: string | null) => {
    const headers: Record<string, string> = { ...openRosaHeaders };
    if (token !== null) headers['x-csrf-token'] = token;
    try {
      return await fetch(`${serverBase(target)}/submission`, { method: 'POST', body, headers, credentials: 'same-origin' });
    } catch {
      throw new Unreachable('submission');
    }
  };
  let response = await send(target.key === null ? await currentCsrfToken() : null);
  // A session renewed elsewhere has a new token: ask for it once.
  if (response.status === 403 && response.headers.get('x-fieldkeep-error') === 'session.csrf_invalid') response = await send(await currentCsrfToken(true));
  if (response.status === 201) return 'created';
  if (response.status === 202) return 'duplicate';
  throw await refusal(response);
}
