import { ENV_VARIABLES, loadConfig } from './env';

describe('METRICS_TOKEN', () => {
  it('is unset by default (GET /metrics is public) and read trimmed when given', () => {
    expect(ENV_VARIABLES).toContain('METRICS_TOKEN');
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: '  ' }).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: ' s3cret ' }).metricsToken).toBe('s3cret');
  });
});
