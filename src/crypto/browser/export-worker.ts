/*
 * A dedicated Web Worker that exports a form's decrypted submissions as CSV or XLSX off the
 * page's thread: it fetches and decrypts submission by submission (vault.ts), writes the file as
 * they come (csv-export.ts, xlsx-export.ts), reports progress, and hands back one Blob. The page
 * keeps its keys in memory and passes them in the request (CryptoKeys are structured-cloneable);
 * nothing leaves the browser. What is written is gathered into Blobs as it goes, which the browser
 * may keep out of the worker's heap (on disk for large ones), so the worker's memory does not grow
 * with the file.
 *
 * Bundle this file as the worker's script; the page calls `exportCsvInWorker` or `exportXlsxInWorker`.
 */
import { parseXForm } from '../../xform/index.js';
import type { OdkPrivateKey } from '../keys.js';
import { FieldkeepClient } from './api-client.js';
import { csvLines } from './csv-export.js';
import { decryptedRows } from './table.js';
import { decryptFormSubmissions, type DecryptedRecord } from './vault.js';
import { XLSX_TYPE, writeXlsx } from './xlsx-export.js';

export type DecryptedExportFormat = 'csv' | 'xlsx';

export interface DecryptedExportRequest {
  baseUrl: string;
  headers?: Record<string, string>;
  projectId: number;
  formId: string;
  keys: OdkPrivateKey[];
  /** `csv` when not given. */
  format?: DecryptedExportFormat;
}

export type DecryptedExportMessage = { type: 'progress'; submissions: number } | { type: 'done'; file: Blob; submissions: number } | { type: 'error'; message: string };

interface WorkerScope {
  onmessage: ((event: { data: DecryptedExportRequest }) => void) | null;
  postMessage(message: DecryptedExportMessage): void;
}

/** Written parts are gathered into a Blob once they reach about this many bytes (or characters). */
const BLOB_PART = 4 << 20;
const PROGRESS_EVERY = 100;

/** The file as Blobs of a few MB each, made as it is written. */
class BlobBuilder {
  readonly #blobs: Blob[] = [];
  #pending: BlobPart[] = [];
  #size = 0;

  add(part: string | Uint8Array): void {
    this.#pending.push(part as BlobPart);
    this.#size += part.length;
    if (this.#size >= BLOB_PART) this.#flush();
  }

  finish(type: string): Blob {
    this.#flush();
    return new Blob(this.#blobs, { type });
  }

  #flush(): void {
    this.#blobs.push(new Blob(this.#pending));
    this.#pending = [];
    this.#size = 0;
  }
}

async function* counted(records: AsyncIterable<DecryptedRecord>, report: (message: DecryptedExportMessage) => void, count: { submissions: number }): AsyncGenerator<DecryptedRecord> {
  for await (const record of records) {
    yield record;
    count.submissions += 1;
    if (count.submissions % PROGRESS_EVERY === 0) report({ type: 'progress', submissions: count.submissions });
  }
}

async function exportDecrypted(request: DecryptedExportRequest, report: (message: DecryptedExportMessage) => void): Promise<void> {
  const client = new FieldkeepClient({ baseUrl: request.baseUrl, ...(request.headers ? { headers: request.headers } : {}) });
  const schema = parseXForm(await client.xform(request.projectId, request.formId));
  const count = { submissions: 0 };
  const records = counted(decryptFormSubmissions(client, request.projectId, request.formId, request.keys), report, count);
  const file = new BlobBuilder();
  let type: string;
  if (request.format === 'xlsx') {
    await writeXlsx(decryptedRows(records, schema, { numbers: true }), request.formId, (chunk) => file.add(chunk));
    type = XLSX_TYPE;
  } else {
    for await (const line of csvLines(records, schema)) file.add(line);
    type = 'text/csv;charset=utf-8';
  }
  report({ type: 'done', file: file.finish(type), submissions: count.submissions });
}

const scope = globalThis as unknown as WorkerScope;
if (typeof (globalThis as { document?: unknown }).document === 'undefined' && 'onmessage' in globalThis) {
  scope.onmessage = (event) => {
    exportDecrypted(event.data, (message) => scope.postMessage(message)).catch((err: unknown) => scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  };
}

interface WorkerLike {
  onmessage: ((event: { data: DecryptedExportMessage }) => void) | null;
  postMessage(message: DecryptedExportRequest): void;
}

function exportInWorker(worker: WorkerLike, request: DecryptedExportRequest, onProgress: (submissions: number) => void): Promise<Blob> {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.type === 'progress') onProgress(data.submissions);
      else if (data.type === 'done') resolve(data.file);
      else reject(new Error(data.message));
    };
    worker.postMessage(request);
  });
}

/** Runs a CSV export in `worker` (made from this file's bundle); resolves with the file. */
export function exportCsvInWorker(worker: WorkerLike, request: Omit<DecryptedExportRequest, 'format'>, onProgress: (submissions: number) => void = () => {}): Promise<Blob> {
  return exportInWorker(worker, { ...request, format: 'csv' }, onProgress);
}

/** Runs an XLSX export in `worker` (made from this file's bundle); resolves with the workbook. */
export function exportXlsxInWorker(worker: WorkerLike, request: Omit<DecryptedExportRequest, 'format'>, onProgress: (submissions: number) => void = () => {}): Promise<Blob> {
  return exportInWorker(worker, { ...request, format: 'xlsx' }, onProgress);
}
