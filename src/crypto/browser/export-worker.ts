/*
 * A dedicated Web Worker that exports a form's decrypted submissions as CSV off the page's
 * thread: it fetches and decrypts submission by submission (vault.ts), writes lines as they come
 * (csv-export.ts), reports progress, and hands back one Blob. The page keeps its keys in memory
 * and passes them in the request (CryptoKeys are structured-cloneable); nothing leaves the browser.
 *
 * Bundle this file as the worker's script; the page calls `exportCsvInWorker`.
 */
import { parseXForm } from '../../xform/index.js';
import type { OdkPrivateKey } from '../keys.js';
import { FieldkeepClient } from './api-client.js';
import { csvLines } from './csv-export.js';
import { decryptFormSubmissions } from './vault.js';

export interface CsvExportRequest {
  baseUrl: string;
  headers?: Record<string, string>;
  projectId: number;
  formId: string;
  keys: OdkPrivateKey[];
}

export type CsvExportMessage = { type: 'progress'; submissions: number } | { type: 'done'; csv: Blob; submissions: number } | { type: 'error'; message: string };

interface WorkerScope {
  onmessage: ((event: { data: CsvExportRequest }) => void) | null;
  postMessage(message: CsvExportMessage): void;
}

/** Lines are gathered into parts of about this many characters before becoming Blob parts. */
const PART_CHARACTERS = 1 << 20;
const PROGRESS_EVERY = 100;

async function exportCsv(request: CsvExportRequest, report: (message: CsvExportMessage) => void): Promise<void> {
  const client = new FieldkeepClient({ baseUrl: request.baseUrl, ...(request.headers ? { headers: request.headers } : {}) });
  const schema = parseXForm(await client.xform(request.projectId, request.formId));
  const parts: string[] = [];
  let part = '';
  let lines = -1;
  for await (const text of csvLines(decryptFormSubmissions(client, request.projectId, request.formId, request.keys), schema)) {
    part += text;
    lines += 1;
    if (part.length >= PART_CHARACTERS) {
      parts.push(part);
      part = '';
    }
    if (lines > 0 && lines % PROGRESS_EVERY === 0) report({ type: 'progress', submissions: lines });
  }
  parts.push(part);
  report({ type: 'done', csv: new Blob(parts, { type: 'text/csv;charset=utf-8' }), submissions: lines });
}

const scope = globalThis as unknown as WorkerScope;
if (typeof (globalThis as { document?: unknown }).document === 'undefined' && 'onmessage' in globalThis) {
  scope.onmessage = (event) => {
    exportCsv(event.data, (message) => scope.postMessage(message)).catch((err: unknown) => scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  };
}

interface WorkerLike {
  onmessage: ((event: { data: CsvExportMessage }) => void) | null;
  postMessage(message: CsvExportRequest): void;
}

/** Runs an export in `worker` (made from this file's bundle); resolves with the CSV. */
export function exportCsvInWorker(worker: WorkerLike, request: CsvExportRequest, onProgress: (submissions: number) => void = () => {}): Promise<Blob> {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.type === 'progress') onProgress(data.submissions);
      else if (data.type === 'done') resolve(data.csv);
      else reject(new Error(data.message));
    };
    worker.postMessage(request);
  });
}
