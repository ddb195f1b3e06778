import { describe, expect, it } from 'vitest';
import { isoWeekOf, retained } from './retention.js';

const at = (text: string) => new Date(text);

describe('grandfather-father-son retention', () => {
  it('numbers ISO weeks as the standard does at year ends', () => {
    expect(isoWeekOf(at('2026-01-01T12:00:00Z'))).toBe('2026-W01');
    expect(isoWeekOf(at('2027-01-01T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeekOf(at('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeekOf(at('2026-03-01T23:59:59Z'))).toBe('2026-W09');
  });

  it('keeps the newest of each recent day, week and month, and drops the rest', () => {
    // Two backups a day for 90 days, newest first in time order irrelevant.
    const times: Date[] = [];
    for (let d = 0; d < 90; d++) {
      times.push(new Date(Date.UTC(2026, 0, 1 + d, 2, 30)));
      times.push(new Date(Date.UTC(2026, 0, 1 + d, 14, 30)));
    }
    const keep = [...retained(times, { daily: 7, weekly: 4, monthly: 3 })].map((i) => times[i]!.toISOString()).sort();
    const last = times[times.length - 1]!;
    expect(keep).toContain(last.toISOString());
    // The 7 most recent days: only their 14:30 backup.
    for (let d = 0; d < 7; d++) {
      const day = new Date(last.getTime() - d * 86_400_000);
      expect(keep).toContain(day.toISOString());
      expect(keep).not.toContain(new Date(day.getTime() - 12 * 3_600_000).toISOString());
    }
    // Months: the newest of March (the last), February and January.
    expect(keep).toContain('2026-02-28T14:30:00.000Z');
    expect(keep).toContain('2026-01-31T14:30:00.000Z');
    // Days, weeks and months overlap; never more than their sum.
    expect(keep.length).toBeLessThanOrEqual(7 + 4 + 3);
    expect(keep).not.toContain('2026-01-15T14:30:00.000Z');
  });

  it('always keeps the newest backup, even with a policy of zero', () => {
    const times = [at('2026-05-01T00:00:00Z'), at('2026-05-03T00:00:00Z'), at('2026-05-02T00:00:00Z')];
    expect([...retained(times, { daily: 0, weekly: 0, monthly: 0 })]).toEqual([1]);
    expect(retained([], { daily: 7, weekly: 4, monthly: 12 }).size).toBe(0);
  });
});
