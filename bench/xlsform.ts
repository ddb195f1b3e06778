/*
 * XLSForm → XForm over the whole development corpus in one process, against pyxform 4.5.0's
 * in-process times recorded in the corpus manifest (process start is not counted on either side).
 *
 * Each form's bytes are loaded from disk once, before timing. After one warm-up pass, every form
 * is converted `ROUNDS` times; a form's time is its median over the rounds. Conversion alone
 * (convertWorkbook on sheets already read) is timed the same way. Forms pyxform rejects are
 * timed too: rejecting them is part of the job.
 *
 * The ceiling, measured in the same run, is what no reader of an .xlsx or .xlsm can skip: inflating
 * every compressed part of the workbook (node:zlib, native), nothing parsed or converted.
 *
 *   npx tsx bench/xlsform.ts            (writes its section of BENCHMARKS.md)
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { inflateRawSync } from 'node:zlib';
import { convertWorkbook, convertXlsForm } from '../src/xlsform/index.js';
import { readWorkbook } from '../src/xlsform/workbook/index.js';
import { corpusForms } from '../test/support/xlsform-corpus.js';
import { loadNow, machineLine, percentOf, printFigure, writeSection } from './support/report.js';

const ROUNDS = 5;

interface FormTiming {
  name: string;
  totalMs: number;
  conversionMs: number;
  pyxformMs: number;
  /** Inflating every part of the zip alone; null for .xls, which is not compressed. */
  inflateMs: number | null;
}

const ZIP_END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP_CENTRAL_ENTRY = 0x02014b50;
const ZIP_DEFLATE = 8;

/** Inflates every deflated entry of a zip, as found in its central directory. */
function inflateAll(zip: Buffer): void {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0 || zip.readUInt32LE(end) !== ZIP_END_OF_CENTRAL_DIRECTORY) throw new Error('not a zip');
  let at = zip.readUInt32LE(end + 16);
  for (let entry = zip.readUInt16LE(end + 10); entry > 0; entry -= 1) {
    if (zip.readUInt32LE(at) !== ZIP_CENTRAL_ENTRY) throw new Error('bad central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const local = zip.readUInt32LE(at + 42);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    if (method === ZIP_DEFLATE) inflateRawSync(zip.subarray(dataStart, dataStart + compressed));
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
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
    const zipped = /\.xls[xm]$/i.test(form.name);
    const inflateMs = zipped ? await medianTime(() => inflateAll(form.bytes)) : null;
    timings.push({ name: form.name, totalMs, conversionMs, pyxformMs: form.pyxformMs, inflateMs });
  }
  return timings;
}

const ms = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const versus = (t: FormTiming): string => `${t.name} ${ms(t.totalMs)} (pyxform ${ms(t.pyxformMs)})`;

function report(timings: FormTiming[]): string[] {
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
  const zipped = timings.filter((t) => t.inflateMs !== null);
  const zippedTotal = median(zipped.map((t) => t.totalMs));
  const inflate = median(zipped.map((t) => t.inflateMs!));
  printFigure({ bench: 'xlsform', metric: 'reading + conversion, median per form', value: median(total), unit: 'ms', better: 'lower', pyxform: median(pyxform) });
  printFigure({ bench: 'xlsform', metric: 'reading + conversion, median per .xlsx/.xlsm form', value: zippedTotal, unit: 'ms', better: 'lower', ceiling: inflate });
  return [
    '## XLSForm → XForm conversion',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine(loadBefore)}, in one process: the ${timings.length} forms of the development`,
    `corpus (../shared/testdata/xlsform), each the median of ${ROUNDS} runs after a warm-up pass; pyxform's times are its own,`,
    'recorded in the corpus manifest (one Python process, process start not counted). The ceiling for .xlsx and .xlsm forms is',
    'inflating every compressed part of the workbook (native zlib), the one step no reader can skip, measured the same way.',
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
    `- Ceiling: .xlsx/.xlsm forms take ${ms(zippedTotal)} at the median (${zipped.length} forms), inflating their parts alone ${ms(inflate)}: ${percentOf(zippedTotal, inflate, 'lower')} of the ceiling.`,
    `- Peak RSS of the whole run: ${peakRssMb.toFixed(0)} MB.`,
  ];
}

// Taken before the run: other work on a shared machine slows every figure below.
const loadBefore = loadNow();
writeSection('xlsform', report(await measure()));
