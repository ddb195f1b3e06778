/*
 * `npm run bench`: runs every benchmark in bench/ in turn, each in its own process so that one
 * benchmark's memory and warmed-up code do not colour the next one's figures.
 * Exits non-zero if any benchmark fails.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const benchDir = import.meta.dirname;
const tsx = path.resolve(benchDir, '..', 'node_modules', '.bin', 'tsx');
const benchmarks = readdirSync(benchDir)
  .filter((file) => file.endsWith('.ts') && file !== path.basename(import.meta.filename))
  .sort();

const failed: string[] = [];
for (const file of benchmarks) {
  console.log(`\n## ${file}\n`);
  const run = spawnSync(tsx, [path.join(benchDir, file)], { stdio: 'inherit' });
  if (run.status !== 0) failed.push(file);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
