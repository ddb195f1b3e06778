import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from '../src/config/settings-table.js';

// Regenerates the configuration table in README.md from src/config/settings.ts.
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withSettingsTable(readFileSync(readme, 'utf8')));
console.log('README.md configuration table regenerated');
