import { Counter, Histogram, Registry } from 'prom-client';
import type { MetricFamily } from '@app/contracts';
import { parsePrometheusText, sumOf } from '../../../../test/support/prometheus-text';
import { mergeFamilies, renderFamilies, withLabel } from './prometheus-text';

async function registryWith(observations: number[], count: number): Promise<MetricFamily[]> {
  const registry = new Registry();
  const histogram = new Histogram({ name: 'tx_test_seconds', help: 'a test histogram', labelNames: ['stage'], buckets: [1, 5], registers: [registry] });
  const counter = new Counter({ name: 'tx_test_total', help: 'a "test" counter\nwith a newline \\ and a backslash', labelNames: ['code'], registers: [registry] });
  for (const value of observations) histogram.observe({ stage: 'transcribe' }, value);
  counter.inc({ code: 'invalid_audio' }, count);
  return (await registry.getMetricsAsJSON()) as unknown as MetricFamily[];
}

describe('Prometheus text rendering', () => {
  it('renders what prom-client renders itself, sample for sample', async () => {
    const registry = new Registry();
    new Counter({ name: 'tx_a_total', help: 'a', labelNames: ['route'], registers: [registry] }).inc({ route: '/jobs/:id' }, 3);
    const ours = parsePrometheusText(renderFamilies((await registry.getMetricsAsJSON()) as unknown as MetricFamily[]));
    const theirs = parsePrometheusText(await registry.metrics());
    expect(ours.samples).toEqual(theirs.samples);
    expect([...ours.types]).toEqual([...theirs.types]);
  });

  it('merges one family per name across workers, each sample labelled with its worker', async () => {
    const a = withLabel(await registryWith([0.5, 3], 2), 'worker_id', 'w-a');
    const b = withLabel(await registryWith([7], 5), 'worker_id', 'w-"b"');
    const text = renderFamilies(mergeFamilies([a, b]));
    const parsed = parsePrometheusText(text);
    expect(text.match(/^# TYPE tx_test_seconds histogram$/gm)).toHaveLength(1);
    expect(sumOf(parsed, 'tx_test_total', { worker_id: 'w-a', code: 'invalid_audio' })).toBe(2);
    expect(sumOf(parsed, 'tx_test_total', { worker_id: 'w-"b"' })).toBe(5);
    expect(sumOf(parsed, 'tx_test_seconds_count', { stage: 'transcribe' })).toBe(3);
    expect(sumOf(parsed, 'tx_test_seconds_bucket', { worker_id: 'w-a', le: '1' })).toBe(1);
    expect(sumOf(parsed, 'tx_test_seconds_bucket', { worker_id: 'w-"b"', le: '+Inf' })).toBe(1);
    expect(sumOf(parsed, 'tx_test_seconds_sum', { worker_id: 'w-a' })).toBeCloseTo(3.5);
  });

  it('drops a family whose type disagrees with the first one, and malformed ones', () => {
    const counter: MetricFamily = { name: 'tx_x', help: 'x', type: 'counter', values: [{ value: 1, labels: {} }] };
    const gauge: MetricFamily = { name: 'tx_x', help: 'x', type: 'gauge', values: [{ value: 9, labels: {} }] };
    const badName = { name: 'tx x', help: 'x', type: 'gauge', values: [] } as MetricFamily;
    const badValue = { name: 'tx_y', help: 'y', type: 'gauge', values: [{ value: '1', labels: {} }] } as unknown as MetricFamily;
    const merged = mergeFamilies([[counter], [gauge, badName, badValue]]);
    expect(merged).toEqual([counter]);
    expect(parsePrometheusText(renderFamilies(merged)).samples).toEqual([{ name: 'tx_x', labels: {}, value: 1 }]);
  });
});
