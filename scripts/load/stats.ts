/** Latency figures of one load phase, and the sanity bounds the CI's short run asserts. */
export interface PhaseResult {
  name: string;
  connections: number;
  durationS: number;
  requests: number;
  /** answers other than the expected status, and transport errors */
  errors: number;
  /** a few distinct error descriptions, for the report */
  errorSamples: string[];
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(name: string, connections: number, durationS: number, latenciesMs: number[], errors: number, errorSamples: string[]): PhaseResult {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    name,
    connections,
    durationS,
    requests: sorted.length + errors,
    errors,
    errorSamples,
    requestsPerS: sorted.length / durationS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
  };
}

export interface SaneBounds {
  /** p99 at most this */
  maxP99Ms: number;
  /** at least this many successful requests per second */
  minRequestsPerS: number;
}

/** What is wrong with a phase; empty when it is sane (no errors, some throughput, p99 under the bound). */
export function insanities(result: PhaseResult, bounds: SaneBounds): string[] {
  const problems: string[] = [];
  if (result.errors > 0) problems.push(`${result.name}: ${result.errors} errors (${result.errorSamples.join('; ')})`);
  if (!(result.requestsPerS >= bounds.minRequestsPerS)) problems.push(`${result.name}: ${result.requestsPerS.toFixed(1)} requests/s < ${bounds.minRequestsPerS}`);
  if (!(result.p99Ms <= bounds.maxP99Ms)) problems.push(`${result.name}: p99 ${result.p99Ms.toFixed(0)} ms > ${bounds.maxP99Ms} ms`);
  return problems;
}

/** `INFO memory` → used_memory in bytes. */
export function usedMemoryBytes(info: string): number {
  const match = /^used_memory:(\d+)\r?$/m.exec(info);
  if (!match) throw new Error('INFO memory has no used_memory line');
  return Number(match[1]);
}

/** /proc/<pid>/status → VmRSS in MB (undefined where /proc is not there). */
export function rssMbFromProcStatus(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : undefined;
}

export function phaseRow(r: PhaseResult): string {
  return `| ${r.name} | ${r.connections} | ${r.durationS.toFixed(0)} s | ${r.requests} | ${r.requestsPerS.toFixed(1)} | ${r.p50Ms.toFixed(0)} ms | ${r.p99Ms.toFixed(0)} ms | ${r.errors} |`;
}

export const PHASE_HEADER = ['| phase | connections | duration | requests | requests/s | p50 | p99 | errors |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
