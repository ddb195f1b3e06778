/**
 * Makes the file system refuse writes to given files of a running process, and stop refusing:
 * strace attaches to every thread of the server and answers each write or sync to those files
 * (and only those: `-P`) with an errno instead of performing it, as a disk remounted read-only
 * after an error (EROFS) or a failing disk (EIO) would. Detaching ends the fault at once.
 *
 * Why not chmod: the server holds its database open, and permissions are checked only when a file
 * is opened, so a running server goes on writing to a file made read-only (and root ignores modes
 * anyway); a read-only remount is refused while files are open for writing. The fault the server
 * can actually meet, the kernel answering its writes with EROFS, is what this injects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const WRITE_SYSCALLS = 'write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,ftruncate';

export interface RefusedWrites {
  clear(): Promise<void>;
}

function tracers(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((task) => Number(/TracerPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'))?.[1] ?? 0));
}

export async function refuseWrites(pid: number, files: readonly string[], errno: 'EROFS' | 'EIO' = 'EROFS'): Promise<RefusedWrites> {
  const strace: ChildProcess = spawn(
    'strace',
    ['-f', '-qq', '-o', '/dev/null', '-p', String(pid), '-e', `trace=${WRITE_SYSCALLS}`, '-e', `inject=${WRITE_SYSCALLS}:error=${errno}`, ...files.flatMap((f) => ['-P', f])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  strace.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!tracers(pid).every((tracer) => tracer === strace.pid)) {
    if (strace.exitCode !== null || Date.now() > deadline) {
      strace.kill('SIGKILL');
      throw new Error(`strace did not attach to ${pid}: ${stderr}`);
    }
    await sleep(20);
  }
  return {
    clear: async () => {
      // SIGINT: strace detaches from every thread, and the process runs on untouched.
      strace.kill('SIGINT');
      await exited;
    },
  };
}
