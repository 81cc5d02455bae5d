/**
 * One way to say how long: `45 s`, `12 min`, `1.5 h`, `3 d`. Used by log lines, chat replies and the
 * CLI alike, so an operator reads the same figure everywhere. Pure.
 */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 48 * 3_600_000) return `${(ms / 3_600_000).toFixed(ms % 3_600_000 ? 1 : 0)} h`;
  return `${(ms / 86_400_000).toFixed(ms % 86_400_000 ? 1 : 0)} d`;
}
