/*
 * XLSForm → XForm over the whole development corpus in one process, against pyxform 4.5.0's
 * in-process times recorded in the corpus manifest (process start is not counted on either side).
 *
 * Each form's bytes are loaded from disk once, before timing. After one warm-up pass, every form
 * is converted `ROUNDS` times; a form's time is its median over the rounds. Conversion alone
 * (convertWorkbook on sheets already read) is timed the same way. Forms pyxform rejects are
 * timed too: rejecting them is part of the job.
 *
 *   npx tsx bench/xlsform.ts            (writes its section of BENCHMARKS.md)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { convertWorkbook, convertXlsForm } from '../src/xlsform/index.js';
import { readWorkbook } from '../src/xlsform/workbook/index.js';
import { corpusForms } from '../test/support/xlsform-corpus.js';

const ROUNDS = 5;

interface FormTiming {
  name: string;
  totalMs: number;
  conversionMs: number;
  pyxformMs: number;
}

const median = (values: number[]): number => quantile(values, 0.5);

/** Linear-interpolated quantile, as numpy's default. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

async function timeOnce(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function medianTime(run: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) times.push(await timeOnce(run));
  return median(times);
}

async function measure(): Promise<FormTiming[]> {
  const forms = corpusForms().map((form) => ({ ...form, bytes: readFileSync(form.workbook) }));
  for (const form of forms) await timeOnce(() => convertXlsForm(form.bytes, form.name));
  const timings: FormTiming[] = [];
  for (const form of forms) {
    const totalMs = await medianTime(() => convertXlsForm(form.bytes, form.name));
    const sheets = await readWorkbook(form.bytes, form.name).then((book) => book.sheets);
    const conversionMs = await medianTime(() => convertWorkbook(sheets, form.name));
    timings.push({ name: form.name, totalMs, conversionMs, pyxformMs: form.pyxformMs });
  }
  return timings;
}

const ms = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const versus = (t: FormTiming): string => `${t.name} ${ms(t.totalMs)} (pyxform ${ms(t.pyxformMs)})`;

function report(timings: FormTiming[]): string {
  const total = timings.map((t) => t.totalMs);
  const conversion = timings.map((t) => t.conversionMs);
  const pyxform = timings.map((t) => t.pyxformMs);
  const speedups = timings.map((t) => t.pyxformMs / t.totalMs);
  const slowest = [...timings].sort((a, b) => b.totalMs - a.totalMs).slice(0, 3);
  const leastAhead = [...timings].sort((a, b) => a.pyxformMs / a.totalMs - b.pyxformMs / b.totalMs).slice(0, 3);
  const byFormat = (extension: string): string => {
    const times = timings.filter((t) => t.name.toLowerCase().endsWith(extension)).map((t) => t.totalMs);
    return `${extension} ${ms(median(times))} (${times.length} form${times.length === 1 ? '' : 's'})`;
  };
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const machine = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}`;
  return [
    '<!-- xlsform:start (written by `npx tsx bench/xlsform.ts`) -->',
    '## XLSForm → XForm conversion',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}, in one process: the ${timings.length} forms of the development`,
    `corpus (../shared/testdata/xlsform), each the median of ${ROUNDS} runs after a warm-up pass; pyxform's times are its own,`,
    `recorded in the corpus manifest (one Python process, process start not counted). Load average before the run: ${loadBefore.toFixed(1)}.`,
    '',
    '| per form | median | p95 | max |',
    '|---|---|---|---|',
    `| reading + conversion (convertXlsForm) | ${ms(median(total))} | ${ms(quantile(total, 0.95))} | ${ms(Math.max(...total))} |`,
    `| conversion alone (convertWorkbook) | ${ms(median(conversion))} | ${ms(quantile(conversion, 0.95))} | ${ms(Math.max(...conversion))} |`,
    `| pyxform 4.5.0, in-process (manifest) | ${ms(median(pyxform))} | ${ms(quantile(pyxform, 0.95))} | ${ms(Math.max(...pyxform))} |`,
    '',
    `- Speed-up over pyxform: ${(median(pyxform) / median(total)).toFixed(1)}× on the medians; per form, median ${median(speedups).toFixed(1)}×, worst ${Math.min(...speedups).toFixed(1)}× (goal: ≥ 10×).`,
    `- Median reading + conversion by format: ${byFormat('.xlsx')}, ${byFormat('.xlsm')}, ${byFormat('.xls')}.`,
    `- Slowest forms: ${slowest.map(versus).join('; ')}.`,
    `- Least ahead of pyxform: ${leastAhead.map(versus).join('; ')}.`,
    `- Peak RSS of the whole run: ${peakRssMb.toFixed(0)} MB.`,
    '<!-- xlsform:end -->',
  ].join('\n');
}

// Taken before the run: other work on a shared machine slows every figure below.
const loadBefore = loadavg()[0]!;
const section = report(await measure());
const file = new URL('../BENCHMARKS.md', import.meta.url);
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures measured by the scripts in `bench/`; each script rewrites only its own section.\n';
const pattern = /<!-- xlsform:start[\s\S]*?<!-- xlsform:end -->/;
writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
