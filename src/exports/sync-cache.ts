/*
 * The short cache behind saved settings' URLs. Excel's and Power BI's web connectors refresh by
 * fetching the URL again, often many at once (every tile of a dashboard, every open workbook), so
 * the file computed for a key is kept, encrypted on disk (spool.ts), for FIELDKEEP_EXPORT_CACHE_SECONDS
 * and served again; a request that arrives while it is being computed waits for it rather than
 * computing it a second time. The first caller reads the export as it is computed. The key names
 * the caller and their row filter, so a file is only ever served to whoever it was computed for.
 * Memory holds only the index; the files go when they expire or the server stops.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { PreparedExport } from './service.js';
import { SpoolDirectory, type Spool } from './spool.js';

export type ExportFile = Pick<PreparedExport, 'fileName' | 'contentType' | 'note'>;

interface Computed {
  file: ExportFile;
  spool: Spool;
  /** The first caller's copy, read while the file is written. */
  body: Readable;
  /** Settles once the file is complete. */
  complete: Promise<void>;
}

interface Entry {
  expiresAt: number;
  computed: Promise<Computed>;
}

export interface Served {
  file: ExportFile;
  body: Readable;
  /** True when the file was computed for an earlier request. */
  cached: boolean;
}

export class ExportCache {
  private readonly entries = new Map<string, Entry>();
  private directory: Promise<SpoolDirectory> | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly ttlMs: number,
  ) {}

  /** The file for `key`: from the cache while fresh, else computed by `prepare` (once, whoever asks meanwhile). */
  async serve(key: string, prepare: () => Promise<PreparedExport>, onFailure: (error: Error) => void): Promise<Served> {
    this.sweep(Date.now());
    const fresh = this.entries.get(key);
    if (fresh) {
      const computed = await fresh.computed;
      await computed.complete;
      return { file: computed.file, body: computed.spool.read(), cached: true };
    }
    if (this.ttlMs === 0) {
      const prepared = await prepare();
      const body = new PassThrough();
      prepared.write(body).catch(onFailure);
      return { file: prepared, body, cached: false };
    }
    const entry: Entry = { expiresAt: Date.now() + this.ttlMs, computed: this.compute(prepare, onFailure) };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.computed.then((c) => c.complete.catch(() => (forget(), c.spool.remove())), forget);
    const computed = await entry.computed;
    return { file: computed.file, body: computed.body, cached: false };
  }

  private async compute(prepare: () => Promise<PreparedExport>, onFailure: (error: Error) => void): Promise<Computed> {
    const prepared = await prepare();
    this.directory ??= SpoolDirectory.create(this.dataDir);
    const spool = (await this.directory).spool();
    // Both copies take the export at the pace of the slower; if the first caller goes away, the file is still finished.
    const tee = new PassThrough();
    const body = new PassThrough();
    tee.pipe(body);
    tee.pipe(spool.input);
    const complete = prepared.write(tee).then(() => spool.written);
    complete.catch((error: Error) => {
      body.destroy(error);
      spool.input.destroy();
      onFailure(error);
    });
    return { file: prepared, spool, body, complete };
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) continue;
      this.entries.delete(key);
      // Readers still holding the file keep reading it: removing a file leaves open handles working.
      entry.computed.then((c) => c.spool.remove(), () => {});
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
    if (this.directory) await (await this.directory).remove();
  }
}
