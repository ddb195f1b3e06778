import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settings } from './settings.js';
import { renderSettingsTable, withSettingsTable } from './settings-table.js';

describe('the README configuration table', () => {
  it('is exactly what the settings table generates (run `npm run docs:config` after changing settings)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it('lists every setting with its description, and the _FILE twin of every secret', () => {
    const table = renderSettingsTable();
    for (const [name, spec] of Object.entries(settings)) {
      expect(table).toContain(`\`${name}\``);
      expect(table).toContain(spec.description.replace(/\|/g, '\\|'));
      if ('secret' in spec && spec.secret) expect(table).toContain(`\`${name}_FILE\``);
    }
  });
});
