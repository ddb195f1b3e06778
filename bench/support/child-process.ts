/**
 * A Fieldkeep server (or any script) run in a child process for benchmarks, so that its memory is
 * measured apart from the load generator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');

/**
 * Resident memory now and at its peak (VmHWM), in MB, of the server: tsx runs it in a child node
 * process of its own, so that child is measured, not the tsx launcher.
 */
export function memoryOf(launcher: number): { rss: number; peak: number } {
  const children = readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  const pid = children.length > 0 ? Number(children[0]) : launcher;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** CPU time (user and system, ms) the server has used so far; the same process `memoryOf` reads. */
export function cpuOf(launcher: number): number {
  const children = readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  const pid = children.length > 0 ? Number(children[0]) : launcher;
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in clock ticks.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Linux's USER_HZ, the unit of /proc times, is 100 on every architecture Node.js runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * A child's environment: only what the benchmark sets, plus PATH; with BENCH_CPU_PROFILE_DIR set,
 * each child writes a CPU profile there as it exits (cpu-profile.mjs), which is how the profiles
 * BENCHMARKS.md quotes are taken (`BENCH_CPU_PROFILE_DIR=/tmp/prof npx tsx bench/openrosa.ts`).
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
  const profiling: Record<string, string> = profileDir ? { BENCH_CPU_PROFILE_DIR: profileDir, NODE_OPTIONS: `--import ${path.join(import.meta.dirname, 'cpu-profile.mjs')}` } : {};
  return { PATH: process.env.PATH ?? '', ...profiling, ...env };
}

/** Runs `command args…` (TypeScript through tsx by default) and resolves once its output matches `ready`. */
export function startChild(args: string[], env: Record<string, string>, ready: RegExp, command: string = tsx): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, { cwd: repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = ready.exec(output);
      if (match) resolve({ child, url: match[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

