/*
 * Back-pressure for exports: a writer waits whenever its destination's buffer is full, and stops
 * with `ExportAborted` as soon as the destination is gone (the client hung up, the job was
 * cancelled), instead of waiting forever for a drain that will never come.
 */
import type { Writable } from 'node:stream';

export class ExportAborted extends Error {
  constructor() {
    super('the export was abandoned by its reader');
    this.name = 'ExportAborted';
  }
}

/** Resolves once `out` can take more (at once when it can now). */
export function drained(out: Writable): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.reject(out.errored ?? new ExportAborted());
  if (!out.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error | null) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(out.errored ?? new ExportAborted());
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', settle);
  });
}

/** Writes `chunk`, then waits while `out` is full. */
export async function send(out: Writable, chunk: string | Buffer): Promise<void> {
  if (out.destroyed) throw out.errored ?? new ExportAborted();
  if (!out.write(chunk)) await drained(out);
}

/**
 * Rejects with `ExportAborted` when `out` closes. Raced with waits on streams that only feed `out`
 * indirectly (through a zip writer), which would otherwise wait forever once `out` is gone.
 */
export function whenClosed(out: Writable): Promise<never> {
  const closed = new Promise<never>((_resolve, reject) => {
    if (out.destroyed) reject(out.errored ?? new ExportAborted());
    else out.once('close', () => reject(out.errored ?? new ExportAborted()));
  });
  closed.catch(() => {});
  return closed;
}
