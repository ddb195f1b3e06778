import { expect, it } from 'vitest';
import { describeEachDatabase, useScratchStorage } from './support/databases.js';
import { runFieldkeep, type CliOptions } from './support/fieldkeep-cli.js';

/** Settings every run here starts from: a free port, and the log lines the serve test reads. */
const fieldkeep = (args: string[], env: Record<string, string>, onStdout?: CliOptions['onStdout']) =>
  runFieldkeep(args, { FIELDKEEP_PORT: '0', FIELDKEEP_LOG_LEVEL: 'info', ...env }, onStdout ? { onStdout } : {});

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
