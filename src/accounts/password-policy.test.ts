import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy } from './password-policy.js';

const ALICE = { username: 'alice', email: 'alice.smith@example.org' };

async function codes(password: string, identity = ALICE): Promise<string[]> {
  return (await checkPasswordPolicy(password, identity)).map((problem) => problem.code);
}

describe('checkPasswordPolicy', () => {
  it.each([
    'correct horse battery staple',
    'kX9#mP2vLq8w',
    'Wandering-Quokka-Umbrella',
    'πλανήτης-γαλαξίας-νεφέλη',
  ])('accepts the strong password %s', async (password) => {
    expect(await checkPasswordPolicy(password, ALICE)).toEqual([]);
  });

  it('needs no composition: a long lowercase passphrase passes', async () => {
    expect(await codes('ornate gravel tundra wisp')).toEqual([]);
  });

  it('refuses fewer than 10 characters, counted as code points', async () => {
    expect(await codes('kX9#mP2vL')).toContain('password.too_short');
    // Ten astral-plane characters are 20 UTF-16 units but ten characters.
    expect(await codes('🦘🐨🦉🐙🦑🦞🦀🐡🦩🦚')).not.toContain('password.too_short');
    expect(await codes('🦘🐨🦉🐙🦑🦞🦀🐡🦩')).toContain('password.too_short');
  });

  it('allows exactly 1024 bytes and refuses 1025, counting UTF-8 bytes', async () => {
    const strongStart = 'Wandering-Quokka-Umbrella-';
    expect(await codes(strongStart + 'z'.repeat(1024 - strongStart.length))).not.toContain('password.too_long');
    expect(await checkPasswordPolicy('z'.repeat(1025))).toEqual([
      { code: 'password.too_long', message: 'Use at most 1024 bytes; this password has 1025 bytes in UTF-8.' },
    ]);
    // 342 × 'é' is 342 characters but 684 bytes; 513 × 'é' is 1026 bytes.
    expect(await codes('é'.repeat(513))).toEqual(['password.too_long']);
  });

  it.each(['password123', 'qwertyuiop123', 'iloveyou2024', 'aaaaaaaaaaaa', '1234567890'])(
    'refuses the common or patterned password %s with zxcvbn feedback',
    async (password) => {
      const weak = (await checkPasswordPolicy(password, ALICE)).find((problem) => problem.code === 'password.too_weak');
      expect(weak?.message).toMatch(/too easy to guess/);
      expect(weak?.feedback?.suggestions.length).toBeGreaterThan(0);
    },
  );

  it.each([
    ['the username', 'alice-Wandering-Quokka'],
    ['the username in another case', 'ALICEwanderingquokka'],
    ['the email local part', 'xq!alice.smith!xq'],
    ['something close to the email', 'alice.smith@example.com'],
    ['something close to the local part', 'alicia.smith'],
  ])('refuses a password containing or resembling %s', async (_label, password) => {
    expect(await codes(password)).toContain('password.contains_identity');
  });

  it('accepts an unrelated strong password for the same person', async () => {
    expect(await codes('Wandering-Quokka-Umbrella')).not.toContain('password.contains_identity');
  });

  it('ignores identity terms too short to matter', async () => {
    expect(await codes('correct horse battery staple', { username: 'al', email: 'x@example.org' })).toEqual([]);
  });

  it('judges hostile repetitive passwords quickly (zxcvbn is super-linear; input is capped)', async () => {
    const hostile = ['1'.repeat(1024), 'aA1!'.repeat(256), 'abc123'.repeat(170), '12'.repeat(512)];
    const started = performance.now();
    for (const password of hostile) expect(await codes(password)).toContain('password.too_weak');
    // Defaults took 1.5–3 s for each of these; capped, they take about 0.1 s each.
    expect(performance.now() - started).toBeLessThan(4000);
  });
});
