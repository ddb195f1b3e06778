/**
 * Reading a user export from KoBoToolbox (Django) or ODK Central, CSV or JSON, into rows to import
 * with their existing password hashes. Pure: text in, rows or problems (with line numbers) out.
 *
 * Columns: `username`, `email`, `hash` (or `password`, as Django's dumps call it) and
 * `is_superuser` (or `is_admin`). Django hashes carry their algorithm prefix
 * (`pbkdf2_sha256$…`, `bcrypt$…`, `argon2$…`, or `!…` for an unusable password); Central stores bare
 * bcrypt (`$2a$…`/`$2b$…`) and identifies people by email, so there `username` defaults to the email.
 */
import { inspectPasswordHash } from './passwords.js';
import { emailProblem, usernameProblem } from './users.js';
import { identityKey } from './credentials.js';

export type ImportFormat = 'django' | 'central';

export interface ImportRow {
  line: number;
  username: string;
  email: string | null;
  hash: string;
  isAdmin: boolean;
}

export interface ImportProblem {
  line: number;
  message: string;
}

export type ParsedImport = { ok: true; rows: ImportRow[] } | { ok: false; problems: ImportProblem[] };

export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;
export const MAX_IMPORT_ROWS = 100_000;
const MAX_PROBLEMS = 100;

interface RawRecord {
  line: number;
  fields: Record<string, string>;
}

export function parseUserImport(text: string, format: ImportFormat): ParsedImport {
  if (Buffer.byteLength(text, 'utf8') > MAX_IMPORT_BYTES) return fail(1, `the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
  const body = text.replace(/^\uFEFF/, '');
  const records = body.trimStart().startsWith('[') ? readJson(body) : readCsv(body);
  if ('problem' in records) return { ok: false, problems: [records.problem] };
  if (records.length > MAX_IMPORT_ROWS) return fail(1, `the file has more than ${MAX_IMPORT_ROWS} users; split it`);
  const problems: ImportProblem[] = [];
  const rows: ImportRow[] = [];
  const seenNames = new Map<string, number>();
  const seenEmails = new Map<string, number>();
  for (const record of records) {
    const row = toRow(record, format, problems);
    if (row === undefined) continue;
    const nameKey = identityKey(row.username);
    const earlier = seenNames.get(nameKey);
    if (earlier !== undefined) problems.push({ line: row.line, message: `username "${row.username}" already appears on line ${earlier}` });
    seenNames.set(nameKey, row.line);
    if (row.email !== null) {
      const emailKey = identityKey(row.email);
      const earlierEmail = seenEmails.get(emailKey);
      if (earlierEmail !== undefined) problems.push({ line: row.line, message: `email ${row.email} already appears on line ${earlierEmail}` });
      seenEmails.set(emailKey, row.line);
    }
    rows.push(row);
  }
  if (rows.length === 0 && problems.length === 0) return fail(1, 'the file has no users');
  return problems.length > 0 ? { ok: false, problems: problems.slice(0, MAX_PROBLEMS) } : { ok: true, rows };
}

function fail(line: number, message: string): ParsedImport {
  return { ok: false, problems: [{ line, message }] };
}

function toRow(record: RawRecord, format: ImportFormat, problems: ImportProblem[]): ImportRow | undefined {
  const field = (...names: string[]) => names.map((n) => record.fields[n]).find((v) => v !== undefined)?.trim() ?? '';
  const before = problems.length;
  const report = (message: string) => problems.push({ line: record.line, message });
  const email = field('email') || null;
  const username = field('username') || (format === 'central' ? (email ?? '') : '');
  const hash = field('hash', 'password', 'password_hash');
  const adminText = field('is_superuser', 'is_admin').toLowerCase();

  const nameProblem = usernameProblem(username);
  if (nameProblem !== null) report(username ? `username "${username.slice(0, 80)}": ${nameProblem}` : 'the username is missing');
  if (email !== null) {
    const problem = emailProblem(email);
    if (problem !== null) report(problem);
  } else if (format === 'central') {
    report('the email is missing (Central accounts are identified by email)');
  }
  const hashProblem = checkHash(hash, format);
  if (hashProblem !== null) report(hashProblem);
  const isAdmin = ['1', 'true', 't', 'yes', 'y'].includes(adminText);
  if (!isAdmin && !['', '0', 'false', 'f', 'no', 'n'].includes(adminText)) report(`is_superuser "${adminText.slice(0, 20)}" is not true or false`);
  return problems.length > before ? undefined : { line: record.line, username, email, hash, isAdmin };
}

function checkHash(hash: string, format: ImportFormat): string | null {
  if (hash === '') return 'the password hash is missing';
  const info = inspectPasswordHash(hash);
  if (info.kind === 'invalid') return `the password hash is not usable: ${info.reason}`;
  if (info.kind === 'unusable') return null;
  if (format === 'central' && !hash.startsWith('$2')) return 'a Central password hash is bare bcrypt ($2a$… or $2b$…)';
  if (format === 'django' && hash.startsWith('$')) return 'a Django password hash starts with its algorithm (pbkdf2_sha256$…, bcrypt$…); use --format central for bare bcrypt';
  return null;
}

/** RFC 4180 CSV with a header row; quoted fields may hold commas, quotes ("") and newlines. */
function readCsv(text: string): RawRecord[] | { problem: ImportProblem } {
  const records: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let atCellStart = true;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line += 1;
        cell += c;
      }
      continue;
    }
    if (c === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      atCellStart = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      cells.push(cell);
      if (cells.some((v) => v !== '')) records.push({ line: recordLine, cells });
      cells = [];
      cell = '';
      line += 1;
      recordLine = line;
      atCellStart = true;
    } else {
      cell += c;
      atCellStart = false;
    }
  }
  if (quoted) return { problem: { line: recordLine, message: 'a quoted field is not closed' } };
  cells.push(cell);
  if (cells.some((v) => v !== '')) records.push({ line: recordLine, cells });
  const [header, ...data] = records;
  if (header === undefined) return [];
  const names = header.cells.map((name) => name.trim().toLowerCase());
  if (!names.includes('username') && !names.includes('email')) {
    return { problem: { line: header.line, message: 'the first line must name the columns: username,email,hash,is_superuser' } };
  }
  return data.map((record) => ({ line: record.line, fields: Object.fromEntries(names.map((name, index) => [name, record.cells[index] ?? ''])) }));
}

/** A JSON array of objects; each object's line number is where it starts in the file. */
function readJson(text: string): RawRecord[] | { problem: ImportProblem } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { problem: { line: 1, message: `the file is not valid JSON (${(err as Error).message})` } };
  }
  if (!Array.isArray(parsed)) return { problem: { line: 1, message: 'the JSON must be an array of users' } };
  const lines = objectStartLines(text);
  const records: RawRecord[] = [];
  for (const [index, item] of parsed.entries()) {
    const line = lines[index] ?? 1;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return { problem: { line, message: `item ${index + 1} is not an object` } };
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key.toLowerCase()] = String(value);
    }
    records.push({ line, fields });
  }
  return records;
}

/** The line on which each element of the top-level array starts. */
function objectStartLines(text: string): number[] {
  const starts: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectingElement = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\n') line += 1;
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectingElement && c !== undefined && !/[\s,]/.test(c)) {
      starts.push(line);
      expectingElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth += 1;
      if (depth === 1) expectingElement = true;
    } else if (c === ']' || c === '}') depth -= 1;
    else if (c === ',' && depth === 1) expectingElement = true;
  }
  return starts;
}
