/**
 * How long the fault suites run. `npm test` (and CI) runs a short pass with a fixed seed, so a
 * failure reproduces; `npm run test:faults` runs the long local mode (20 crash rounds per database,
 * a fresh seed each time, printed so a failing run can be repeated with FIELDKEEP_FAULT_SEED).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CI_SEED = 20261129;

export interface FaultPlan {
  seed: number;
  /** kill -9 rounds per database. */
  crashRounds: number;
  /** Submissions posted at once in each crash round. */
  crashBatch: number;
}

export function faultPlan(env: Record<string, string | undefined> = process.env): FaultPlan {
  const number = (name: string, fallback: number) => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
    return value;
  };
  return {
    seed: number('FIELDKEEP_FAULT_SEED', CI_SEED),
    crashRounds: number('FIELDKEEP_FAULT_ROUNDS', 2),
    crashBatch: number('FIELDKEEP_FAULT_BATCH', 1000),
  };
}

/** mulberry32: a small seeded generator, so the kill moments and sizes of a run can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Why a fault that needs the machine (mounting a tmpfs, attaching strace, running a PostgreSQL
 * server of our own) cannot be injected here, or undefined when it can. Under CI a missing
 * capability fails the run instead of skipping, as an unreachable PostgreSQL does.
 */
export function missingCapability(what: 'tmpfs' | 'strace' | 'postgres-server'): string | undefined {
  const reason = probe(what);
  if (reason !== undefined && process.env.CI) throw new Error(`${reason}; CI must run every fault suite`);
  return reason;
}

function probe(what: 'tmpfs' | 'strace' | 'postgres-server'): string | undefined {
  try {
    if (what === 'tmpfs') {
      const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-tmpfs-probe-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } finally {
        rmdirSync(dir);
      }
    } else if (what === 'strace') {
      execFileSync('strace', ['-V'], { stdio: 'pipe' });
      if (process.getuid?.() !== 0) return 'strace needs root (ptrace of the server) to inject faults';
    } else {
      execFileSync('runuser', ['--version'], { stdio: 'pipe' });
      execFileSync('id', ['postgres'], { stdio: 'pipe' });
    }
    return undefined;
  } catch (err) {
    const hint = { tmpfs: 'mounting a tmpfs needs root', strace: 'install strace (apt-get install strace)', 'postgres-server': 'needs the PostgreSQL server package and its postgres user' }[what];
    return `cannot inject the ${what} fault here (${(err as Error).message.split('\n')[0]}; ${hint})`;
  }
}
