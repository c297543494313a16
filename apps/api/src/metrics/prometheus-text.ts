import type { MetricFamily, MetricSample } from '@app/contracts';

/** Prometheus text exposition format 0.0.4, what prom-client's registry.contentType names. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary']);

/** The families with `name="value"` added to every sample (a worker's figures get its worker_id). */
export function withLabel(families: MetricFamily[], name: string, value: string): MetricFamily[] {
  return families.map((family) => ({
    ...family,
    values: family.values.map((sample) => ({ ...sample, labels: { ...sample.labels, [name]: value } })),
  }));
}

/**
 * One family per metric name, in first-seen order: the API's own registry first, then each
 * worker's. A family that comes back with another type (a foreign or older writer) is dropped, so
 * the output stays valid for Prometheus.
 */
export function mergeFamilies(groups: MetricFamily[][]): MetricFamily[] {
  const merged = new Map<string, MetricFamily>();
  for (const families of groups) {
    for (const family of families) {
      if (!isWellFormed(family)) continue;
      const seen = merged.get(family.name);
      if (!seen) merged.set(family.name, { name: family.name, help: family.help, type: family.type, values: [...family.values] });
      else if (seen.type === family.type) seen.values.push(...family.values);
    }
  }
  return [...merged.values()];
}

/** The text format: # HELP and # TYPE once per family, then its samples. */
export function renderFamilies(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.values) lines.push(renderSample(family.name, sample));
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function renderSample(family: string, sample: MetricSample): string {
  const labels = Object.entries(sample.labels)
    .filter(([name, value]) => LABEL_NAME.test(name) && value !== undefined)
    .map(([name, value]) => `${name}="${escapeLabelValue(String(value))}"`);
  return `${sample.metricName ?? family}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${formatValue(sample.value)}`;
}

function formatValue(value: number | null): string {
  // JSON has no NaN: a snapshot carries it as null
  if (value === null || Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Snapshots come through Redis: skip what could not render as valid exposition text. */
function isWellFormed(family: MetricFamily): boolean {
  return (
    typeof family?.name === 'string' &&
    METRIC_NAME.test(family.name) &&
    TYPES.has(family.type) &&
    Array.isArray(family.values) &&
    family.values.every((sample) => (typeof sample?.value === 'number' || sample?.value === null) && typeof sample.labels === 'object' && sample.labels !== null &&
      (sample.metricName === undefined || METRIC_NAME.test(sample.metricName)))
  );
}
