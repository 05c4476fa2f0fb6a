/** Times are stored as ISO-8601 UTC text with milliseconds, which sorts like the time it names. */
export function toStoredTime(date: Date): string {
  return date.toISOString();
}

/** The reference's display format: `YYYY-MM-DDTHH:MM:SS`, UTC, no zone suffix. */
export function toApiTime(stored: string | null): string | null {
  return stored === null ? null : stored.slice(0, 19);
}
