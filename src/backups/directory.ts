/**
 * A backup directory: archives are written under a temporary name, synced, then renamed into place
 * (a crash leaves a whole archive or a `.partial` one, never a short file under the final name).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BackupError } from './errors.js';
import type { BackupLocation } from './location.js';

export class DirectoryLocation implements BackupLocation {
  constructor(readonly name: string) {}

  describe(file: string): string {
    return path.join(this.name, file);
  }

  async writeArchive<T>(file: string, write: (sink: Writable) => Promise<T>): Promise<T> {
    await mkdir(this.name, { recursive: true, mode: 0o700 });
    const target = path.join(this.name, file);
    const partial = `${target}.partial`;
    try {
      const result = await write(createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
      const handle = await open(partial, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, target);
      const dir = await open(this.name, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      return result;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async writeSidecar(file: string, text: string): Promise<void> {
    await writeFile(path.join(this.name, `${file}.json`), text, { mode: 0o600 });
  }

  async names(): Promise<string[]> {
    try {
      return await readdir(this.name);
    } catch (err) {
      // Not there (yet), or not a directory: no archives to show; writing to it reports the problem.
      if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return [];
      throw err;
    }
  }

  async readSidecar(file: string): Promise<string | undefined> {
    try {
      return await readFile(path.join(this.name, `${file}.json`), 'utf8');
    } catch {
      return undefined;
    }
  }

  async read(file: string): Promise<Readable> {
    const target = path.join(this.name, file);
    // Opened before it is handed out, so a missing file is reported here, by name, not as a stream error.
    const handle = await open(target, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new BackupError('backup.not_an_archive', `There is no file ${target}.`);
      throw err;
    });
    return handle.createReadStream();
  }

  async remove(file: string): Promise<void> {
    await rm(path.join(this.name, file), { force: true });
    await rm(path.join(this.name, `${file}.json`), { force: true });
  }

  close(): void {}
}
