/**
 * A Web Worker for the browser tests: the browser module's XLSX writer (the one the export
 * worker uses for decrypted submissions) over `rows` made-up submissions, so a test can see
 * 100,000 of them written in Chromium without a server holding 100,000 encrypted envelopes.
 * Replies with progress every 10,000 rows, then the workbook as a Blob.
 */
import type { TableCell } from '../../src/crypto/browser/table.js';
import { XLSX_TYPE, writeXlsx } from '../../src/crypto/browser/xlsx-export.js';

interface Scope {
  onmessage: ((event: { data: { rows: number } }) => void) | null;
  postMessage(message: { progress: number } | { file: Blob; rows: number } | { error: string }): void;
}

const scope = globalThis as unknown as Scope;

async function* submissions(count: number): AsyncGenerator<TableCell[]> {
  yield ['instanceID', '_submission_time', '_signature', 'district', 'age', 'weight', 'note'];
  for (let i = 1; i <= count; i += 1) {
    yield [`uuid:${String(i).padStart(12, '0')}`, '2024-05-01T10:00:00', 'valid', i % 2 ? 'north' : 'south', i % 90, i / 8, `note ${i}, "quoted" & <marked>`];
    if (i % 10_000 === 0) scope.postMessage({ progress: i });
  }
}

scope.onmessage = ({ data }) => {
  const parts: Uint8Array[] = [];
  writeXlsx(submissions(data.rows), 'load', (chunk) => {
    parts.push(chunk);
  }).then(
    (rows) => scope.postMessage({ file: new Blob(parts as BlobPart[], { type: XLSX_TYPE }), rows }),
    (err: unknown) => scope.postMessage({ error: String(err) }),
  );
};
