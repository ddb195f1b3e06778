/*
 * How a benchmark reports: its section of BENCHMARKS.md (between `<!-- name:start -->` and
 * `<!-- name:end -->`, so each script rewrites only its own), and every figure as one JSON line on
 * standard output, next to its ceiling when it has one, so a script can compare runs:
 *
 *   npm run bench | grep '^{"bench"'
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';

const benchmarksFile = path.resolve(import.meta.dirname, '../../BENCHMARKS.md');

export interface Figure {
  /** The benchmark script's name, e.g. `openrosa`. */
  bench: string;
  /** What was measured, e.g. `submissions per second`. */
  metric: string;
  value: number;
  unit: string;
  /** Whether more is better (rates) or less is (times, memory). */
  better: 'higher' | 'lower';
  /** The same work's physical limit on this machine, measured in the same run, in the same unit. */
  ceiling?: number;
  /** Anything that tells runs apart: database, concurrency, format… */
  [detail: string]: string | number | undefined;
}

/** Prints the figure as one JSON line; with a ceiling, also the figure as a fraction of it (1 = at the limit). */
export function printFigure(figure: Figure): void {
  const { ceiling, value, better } = figure;
  const fraction = ceiling === undefined || value === 0 ? undefined : better === 'higher' ? value / ceiling : ceiling / value;
  const line = { ...figure, ...(fraction === undefined ? {} : { fraction: Number(fraction.toFixed(4)) }), date: new Date().toISOString() };
  console.log(JSON.stringify(line));
}

/** The percentage of the ceiling a figure reaches, for the tables. */
export function percentOf(value: number, ceiling: number, better: 'higher' | 'lower' = 'higher'): string {
  return `${Math.round((better === 'higher' ? value / ceiling : ceiling / value) * 100)} %`;
}

/** The machine the figures come from, and how busy it was when the benchmark started. */
export function machineLine(loadBefore: number): string {
  return `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}; load average ${loadBefore.toFixed(1)} when it started`;
}

/** The 1-minute load average now: taken before a run, since other work on the machine slows every figure. */
export function loadNow(): number {
  return loadavg()[0] ?? 0;
}

/** Replaces the benchmark's section of BENCHMARKS.md (or appends it) and prints it. */
export function writeSection(name: string, lines: readonly string[]): void {
  const section = [`<!-- ${name}:start (written by \`npx tsx bench/${name}.ts\`) -->`, ...lines, `<!-- ${name}:end -->`].join('\n');
  const current = existsSync(benchmarksFile) ? readFileSync(benchmarksFile, 'utf8') : '# Benchmarks\n\nFigures measured by the scripts in `bench/`; each script rewrites only its own section.\n';
  const pattern = new RegExp(`<!-- ${name}:start[\\s\\S]*?<!-- ${name}:end -->`);
  writeFileSync(benchmarksFile, pattern.test(current) ? current.replace(pattern, () => section) : `${current.trimEnd()}\n\n${section}\n`);
  console.log(section);
}
