/**
 * Subtitle timestamps: HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (WebVTT), rounded to the millisecond.
 * Hours take two digits at least and grow past 99 (a 100-hour file reads 100:00:00,000); negative
 * or non-finite times read as zero.
 */
export function formatTimestamp(seconds: number, decimalMarker: ',' | '.'): string {
  const totalMs = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0;
  const ms = totalMs % 1000;
  const totalS = Math.floor(totalMs / 1000);
  const s = totalS % 60;
  const m = Math.floor(totalS / 60) % 60;
  const h = Math.floor(totalS / 3600);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(h)}:${two(m)}:${two(s)}${decimalMarker}${String(ms).padStart(3, '0')}`;
}

/** Seconds → whole milliseconds (TSV, as whisper writes it). */
export function toMilliseconds(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0;
}
