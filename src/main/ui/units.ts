/**
 * Byte counts, rates and durations as people read them. Each function is self-contained (no
 * imports, no outside constants): the dashboard page embeds their source text in its script,
 * so the browser and the terminal format the same numbers the same way without a build step.
 */

/** 1536 -> "1.5 KiB"; one decimal below 10 units, none above. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** Bytes per second, compact: 3355443 -> "3.2M/s", 0 -> "0B/s". */
export function formatRate(bytesPerSecond: number): string {
  const units = ['B', 'k', 'M', 'G', 'T'];
  let value = Math.max(0, bytesPerSecond);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)}${units[unit]}/s`;
}

/** Seconds as "m:ss" or "h:mm:ss"; "--:--" when unknown (no rate), ">99h" when absurd. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.ceil(seconds);
  if (whole >= 100 * 3600) return '>99h';
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
