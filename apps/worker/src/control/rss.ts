/** Resident set size in MB, rounded to 0.1. */
export function rssMb(): number {
  return Math.round((process.memoryUsage.rss() / (1024 * 1024)) * 10) / 10;
}
