import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `fieldkeep ARGS…` from the source tree as an operator would, with only the given settings. */
export async function runFieldkeep(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(tsx, [path.join(root, 'src', 'main.ts'), ...args], {
    env: { PATH: process.env.PATH ?? '', FIELDKEEP_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
