/**
 * Grandfather-father-son retention, pure: from the creation times of the archives in a directory,
 * which to keep. For each of the `daily` most recent days that have a backup, the newest backup of
 * that day is kept; likewise for ISO weeks and calendar months (UTC). The newest backup overall is
 * always kept, whatever the policy.
 */
export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

const dayOf = (t: Date) => t.toISOString().slice(0, 10);
const monthOf = (t: Date) => t.toISOString().slice(0, 7);

/** ISO 8601 week, e.g. 2026-W09: the week (Monday first) holding the Thursday of `t`'s week. */
export function isoWeekOf(t: Date): string {
  const day = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const weekday = (day.getUTCDay() + 6) % 7;
  day.setUTCDate(day.getUTCDate() - weekday + 3);
  const year = day.getUTCFullYear();
  const week = 1 + Math.floor((day.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The indexes (into `times`) of the backups to keep. */
export function retained(times: readonly Date[], policy: RetentionPolicy): Set<number> {
  const newestFirst = times.map((t, i) => ({ t, i })).sort((a, b) => b.t.getTime() - a.t.getTime());
  const keep = new Set<number>();
  if (newestFirst.length > 0) keep.add(newestFirst[0]!.i);
  for (const [count, period] of [
    [policy.daily, dayOf],
    [policy.weekly, isoWeekOf],
    [policy.monthly, monthOf],
  ] as const) {
    const seen = new Set<string>();
    for (const { t, i } of newestFirst) {
      if (seen.size >= count) break;
      const key = period(t);
      if (seen.has(key)) continue;
      seen.add(key);
      keep.add(i);
    }
  }
  return keep;
}
