/*
 * The browser's client for Fieldkeep's encryption and submission APIs (fetch only, so it runs in
 * a page, a Web Worker or Node). What it sends is public keys and wrapped or sealed private keys;
 * the passphrase and unwrapped keys never reach it (see vault.ts).
 */
import type { SealedPrivateKey, WrappedPrivateKey } from '../index.js';

export interface ClientOptions {
  /** The server's origin, e.g. `https://data.example.org` (no trailing slash). */
  baseUrl: string;
  /** Sent with every request: `X-CSRF-Token` for a signed-in browser, or `Authorization` for a token. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ProjectKeyView {
  id: number;
  state: 'active' | 'retired';
  publicKey: string;
  managed: boolean;
  hint: string | null;
  wrappedPrivateKey: WrappedPrivateKey | null;
  createdAt: string;
  retiredAt: string | null;
}

export interface EncryptionView {
  enabled: boolean;
  allowServerDecryption: boolean;
  keys: ProjectKeyView[];
  yourCopies: Array<{ keyId: number; sealedPrivateKey: SealedPrivateKey }>;
}

export interface KeySetupRequest {
  publicKey: string;
  wrappedPrivateKey?: WrappedPrivateKey;
  hint?: string;
  /** Whether exports may carry the passphrase for decryption on the server; the server allows it unless this is false. */
  allowServerDecryption?: boolean;
}

export interface SubmissionSummary {
  _id: number;
  _encrypted: boolean;
  _submission_time: string;
  'meta/rootUuid': string;
  [field: string]: unknown;
}

export class FieldkeepClient {
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#headers = options.headers ?? {};
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  encryption(projectId: number): Promise<EncryptionView> {
    return this.#json('GET', `${project(projectId)}/encryption`);
  }

  enableEncryption(projectId: number, body: KeySetupRequest): Promise<{ keyId: number; rekeyedForms: string[] }> {
    return this.#json('POST', `${project(projectId)}/encryption`, body);
  }

  rotateKey(projectId: number, body: KeySetupRequest): Promise<{ keyId: number; rekeyedForms: string[] }> {
    return this.#json('POST', `${project(projectId)}/encryption/rotate`, body);
  }

  ownKey(): Promise<{ key: { publicKey: string; wrappedPrivateKey: WrappedPrivateKey; updatedAt: string } | null }> {
    return this.#json('GET', '/api/v1/users/me/encryption-key');
  }

  setOwnKey(body: { publicKey: string; wrappedPrivateKey: WrappedPrivateKey }): Promise<{ voidedCopies: number }> {
    return this.#json('PUT', '/api/v1/users/me/encryption-key', body);
  }

  sharing(projectId: number): Promise<Array<{ userId: number; username: string; role: string; publicKey: string | null; keyIds: number[] }>> {
    return this.#json('GET', `${project(projectId)}/encryption/members`);
  }

  async share(projectId: number, userId: number, keyId: number, sealedPrivateKey: SealedPrivateKey): Promise<void> {
    await this.#json('PUT', `${project(projectId)}/encryption/members/${userId}/keys/${keyId}`, { sealedPrivateKey });
  }

  revoke(projectId: number, userId: number): Promise<{ removed: number }> {
    return this.#json('DELETE', `${project(projectId)}/encryption/members/${userId}`);
  }

  /** One page of a form's submissions (metadata; encrypted ones carry no answers). */
  submissions(projectId: number, formId: string, cursor: string | null): Promise<{ results: SubmissionSummary[]; next: string | null }> {
    const query = new URLSearchParams({ limit: '250', ...(cursor ? { cursor } : {}) });
    return this.#json('GET', `${submissions(projectId, formId)}?${query}`);
  }

  /** The form's published XForm (for its fields: CSV columns, labels). */
  async xform(projectId: number, formId: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.#request('GET', `${project(projectId)}/forms/${encodeURIComponent(formId)}/xform`)).arrayBuffer());
  }

  /** The encrypted envelope's manifest, as the phone sent it. */
  async manifest(projectId: number, formId: string, instanceId: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.#request('GET', `${submissions(projectId, formId)}/${encodeURIComponent(instanceId)}.xml`)).arrayBuffer());
  }

  /** One file of a submission, as a stream of bytes. */
  async attachment(projectId: number, formId: string, instanceId: string, name: string): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#request('GET', `${submissions(projectId, formId)}/${encodeURIComponent(instanceId)}/attachments/${encodeURIComponent(name)}`);
    if (!response.body) throw new ApiError(response.status, 'client.no_body', `${name} came back empty.`);
    return response.body;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#request(method, path, body);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  async #request(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await this.#fetch(`${this.#baseUrl}${path}`, {
      method,
      headers: { ...this.#headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      credentials: 'same-origin',
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string; title?: string };
      throw new ApiError(response.status, problem.code ?? 'client.http_error', problem.detail ?? problem.title ?? `${method} ${path} answered ${response.status}.`);
    }
    return response;
  }
}

const project = (projectId: number) => `/api/v1/projects/${projectId}`;
const submissions = (projectId: number, formId: string) => `${project(projectId)}/forms/${encodeURIComponent(formId)}/submissions`;
