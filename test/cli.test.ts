import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeEachDatabase, useScratchStorage } from './support/databases.js';

const root = path.resolve(import.meta.dirname, '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function fieldkeep(args: string[], env: Record<string, string>, onStdout?: (text: string, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(tsx, [path.join(root, 'src', 'main.ts'), ...args], {
    env: { PATH: process.env.PATH ?? '', FIELDKEEP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout?.(stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return once(child, 'exit').then(([code, signal]) => ({ code, signal, stdout, stderr }) as Run);
}

describeEachDatabase('the fieldkeep command', (kind) => {
  const storage = useScratchStorage(kind);

  it('migrate applies the schema once, and --status shows it', async () => {
    const first = await fieldkeep(['migrate'], storage().env);
    expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining('applied 0001-instance') });
    const again = await fieldkeep(['migrate'], storage().env);
    expect(again.stdout).toContain('already current');
    const status = await fieldkeep(['migrate', '--status'], storage().env);
    expect(status.stdout).toContain('applied  0001-instance');
  });

  it('doctor exits 0 when everything is in order', async () => {
    const run = await fieldkeep(['doctor'], storage().env);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('FAIL');
  });

  it('serve answers, then stops cleanly on SIGTERM', async () => {
    let answered = false;
    let readiness: unknown;
    const run = await fieldkeep(['serve'], storage().env, (text, child) => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(text);
      if (!match || answered) return;
      answered = true;
      fetch(`${match[1]}/readyz`)
        .then((r) => r.json())
        .then((body) => (readiness = body))
        .finally(() => child.kill('SIGTERM'));
    });
    expect(readiness).toMatchObject({ status: 'ready', database: kind });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"msg":"stopped"');
  });
});

it('doctor exits 1 and explains a bad setting', async () => {
  const run = await fieldkeep(['doctor'], { FIELDKEEP_PORT: 'abc' });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/FAIL\s+setting FIELDKEEP_PORT/);
  expect(run.stdout).toContain('fix:');
});

it('serve refuses to start on bad configuration, naming the setting, without a stack trace', async () => {
  const run = await fieldkeep(['serve'], { FIELDKEEP_ENV: 'production' });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('FIELDKEEP_SECRET_KEY');
  expect(run.stderr).not.toMatch(/\n\s+at /);
});
