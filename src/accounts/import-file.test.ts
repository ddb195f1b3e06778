import { describe, expect, it } from 'vitest';
import { parseUserImport } from './import-file.js';

const DJANGO_HASH = 'pbkdf2_sha256$720000$saltsaltsaltsaltsalt12$' + Buffer.alloc(32, 7).toString('base64');
const BCRYPT = '$2b$10$' + 'a'.repeat(53);

describe('reading a user export', () => {
  it('reads a Django CSV with quoted fields and a header row', () => {
    const csv = `username,email,password,is_superuser\r\nann,ann@example.org,${DJANGO_HASH},True\r\n"bo,b",,"${DJANGO_HASH}",false\n`;
    const parsed = parseUserImport(csv, 'django');
    expect(parsed).toEqual({ ok: false, problems: [{ line: 3, message: expect.stringContaining('username "bo,b"') }] });
    const fixed = parseUserImport(csv.replace('"bo,b"', 'bob'), 'django');
    expect(fixed).toEqual({
      ok: true,
      rows: [
        { line: 2, username: 'ann', email: 'ann@example.org', hash: DJANGO_HASH, isAdmin: true },
        { line: 3, username: 'bob', email: null, hash: DJANGO_HASH, isAdmin: false },
      ],
    });
  });

  it('reads a Central JSON array, taking the email as username, with each object\'s line number', () => {
    const json = `[\n  {"email": "c@example.org", "hash": "${BCRYPT}"},\n  {"email": "d@example.org",\n   "hash": "${BCRYPT}", "is_admin": true}\n]`;
    const parsed = parseUserImport(json, 'central');
    expect(parsed.ok && parsed.rows.map((r) => [r.line, r.username, r.isAdmin])).toEqual([
      [2, 'c@example.org', false],
      [3, 'd@example.org', true],
    ]);
  });

  it('reports every bad row with its line number, and nothing is returned to import', () => {
    const csv = [
      'username,email,hash,is_superuser',
      `ok,ok@example.org,${DJANGO_HASH},0`,
      `bad hash,x@example.org,md5$abc$def,0`,
      `dup,dup@example.org,${DJANGO_HASH},maybe`,
      `OK,other@example.org,${DJANGO_HASH},0`,
      `central,c@example.org,${BCRYPT},0`,
      `,noname@example.org,${DJANGO_HASH},0`,
    ].join('\n');
    const parsed = parseUserImport(csv, 'django');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problems.map((p) => p.line)).toEqual([3, 3, 4, 5, 6, 7]);
  });

  it('refuses an empty file, a file without a header, unclosed quotes and non-array JSON', () => {
    for (const text of ['', 'a,b,c\n1,2,3', 'username,email,hash\n"open', '{"users": []}', '[1, 2]', '[not json']) {
      expect(parseUserImport(text, 'django').ok).toBe(false);
    }
  });
});
