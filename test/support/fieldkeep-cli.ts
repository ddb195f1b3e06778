import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Piped to standard input, which is then not a terminal, as when a script runs the command. */
  stdin?: string;
  /** Called with everything printed so far each time the command prints (e.g. to act once a server listens). */
  onStdout?: (stdout: string, child: ChildProcess) => void;
}

/**
 * Runs `fieldkeep ARGS…` from the source tree as an operator would, with only the given settings.
 * Node runs the command itself (tsx as its loader), not under the `tsx` launcher: the launcher
 * relays a signal by waiting 30 ms for its child to acknowledge it and kills the child outright
 * otherwise, so a busy server could be killed instead of shutting down as `node dist/main.js` does.
 */
export async function runFieldkeep(args: string[], env: Record<string, string>, options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts'), ...args], {
    env: { PATH: process.env.PATH ?? '', FIELDKEEP_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    options.onStdout?.(stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? '');
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
