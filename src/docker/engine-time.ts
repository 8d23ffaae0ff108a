/** Engines write "zero" times as `0001-01-01T00:00:00Z`: no time at all. */
export function parseEngineTime(value: string | null | undefined): Date | null {
  if (!value || value.startsWith('0001-01-01')) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
