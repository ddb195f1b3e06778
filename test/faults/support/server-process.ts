/**
 * The real server as a child process the fault suites can kill, starve and cut off. It is bundled
 * once per suite with esbuild (the same transform tsx applies, without compiling at every start),
 * so a restart costs a process start rather than a TypeScript compile: the crash suite restarts it
 * dozens of times. Every log line is kept (the last few hundred) for the failure message, and the
 * lines that would mean a 500 are counted.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const KEPT_LOG_LINES = 400;

export interface ServerBundle {
  entry: string;
  remove(): void;
}

/**
 * `src/main.ts` and everything it imports from the source tree in one file; packages stay external,
 * so the file is written inside the repository's node_modules, where Node finds them from it.
 */
export async function bundleServer(): Promise<ServerBundle> {
  const cache = path.join(repoRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(path.join(cache, 'fieldkeep-faults-'));
  const entry = path.join(dir, 'main.mjs');
  await promisify(execFile)(
    path.join(repoRoot, 'node_modules/.bin/esbuild'),
    ['src/main.ts', '--bundle', '--platform=node', '--format=esm', '--packages=external', '--log-level=warning', `--outfile=${entry}`],
    { cwd: repoRoot },
  );
  return { entry, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServerProcess {
  child: ChildProcess;
  /** The server's own process id (what strace attaches to, what /proc is read for). */
  pid: number;
  url: string;
  /** The last log lines, as written. */
  logs: string[];
  /** Log lines of errors the server did not recognise (each one a 500 to someone). */
  unhandledErrors: string[];
  /** Milliseconds from spawn to listening. */
  startMs: number;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  /** Resident memory now, in bytes. */
  rssBytes(): number;
  /** Open TCP connections the process holds (sockets in /proc/PID/fd, the listener included). */
  openSockets(): number;
}

/**
 * Starts `fieldkeep serve` with exactly `env` (an inherited DATABASE_URL must not move a SQLite run
 * to PostgreSQL) and resolves once it listens. Its own process group, so a SIGKILL takes all of it.
 */
export function startServerProcess(bundle: ServerBundle, env: Record<string, string>, timeoutMs = 120_000): Promise<ServerProcess> {
  const started = performance.now();
  // The bundle's directory is not the repository: the working directory is, as for `npm start`.
  const child = spawn(process.execPath, [bundle.entry, 'serve'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', FIELDKEEP_LOG_LEVEL: 'info', ...env, FIELDKEEP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const logs: string[] = [];
  const unhandledErrors: string[] = [];
  let onListening: (url: string) => void = () => {};
  const take = (line: string) => {
    logs.push(line);
    if (logs.length > KEPT_LOG_LINES) logs.shift();
    if (line.includes('"msg":"unhandled error"')) unhandledErrors.push(line);
    const listening = /"url":"(http:\/\/[^"]+)"[^\n]*fieldkeep is listening/.exec(line);
    if (listening) onListening(listening[1]!);
  };
  child.stdout!.on('data', lineReader(take));
  child.stderr!.on('data', lineReader(take));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`the server did not listen within ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    const exitedEarly = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${logs.join('\n')}`));
    };
    child.once('exit', exitedEarly);
    onListening = (url) => {
      onListening = () => {};
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      const pid = child.pid!;
      const kill = async (signal: NodeJS.Signals) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(-pid, signal);
        } catch {
          // Already gone.
        }
        await exited;
      };
      resolve({
        child,
        pid,
        url,
        logs,
        unhandledErrors,
        startMs: Math.round(performance.now() - started),
        kill9: () => kill('SIGKILL'),
        stop: () => kill('SIGTERM'),
        rssBytes: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024,
        openSockets: () => countSockets(pid),
      });
    };
  });
}

/** Calls `onLine` with each complete, non-empty line of a stream's chunks. */
function lineReader(onLine: (line: string) => void): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line) onLine(line);
  };
}

/** Sockets among the process's open descriptors: its listener and every client connection. */
function countSockets(pid: number): number {
  const fds = `/proc/${pid}/fd`;
  let names: string[];
  try {
    names = readdirSync(fds);
  } catch {
    return 0;
  }
  let count = 0;
  for (const fd of names) {
    try {
      if (readlinkSync(path.join(fds, fd)).startsWith('socket:')) count += 1;
    } catch {
      // Closed while being counted.
    }
  }
  return count;
}
