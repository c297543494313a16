import { ConfigError, ENV_VARIABLES, loadConfig } from './env';

describe('WORKERS and MODEL_IDLE_UNLOAD_S', () => {
  it('are read by loadConfig', () => {
    expect(ENV_VARIABLES).toEqual(expect.arrayContaining(['WORKERS', 'MODEL_IDLE_UNLOAD_S']));
  });

  it('defaults: one worker, idle unload off', () => {
    const config = loadConfig({});
    expect(config.workers).toBe(1);
    expect(config.modelIdleUnloadS).toBe(0);
  });

  it('takes values in range', () => {
    expect(loadConfig({ WORKERS: '4' }).workers).toBe(4);
    expect(loadConfig({ WORKERS: '64' }).workers).toBe(64);
    expect(loadConfig({ MODEL_IDLE_UNLOAD_S: '300' }).modelIdleUnloadS).toBe(300);
  });

  it.each([
    ['WORKERS', '0'],
    ['WORKERS', '65'],
    ['WORKERS', 'two'],
    ['MODEL_IDLE_UNLOAD_S', '-1'],
    ['MODEL_IDLE_UNLOAD_S', '1.5'],
  ])('fails fast naming %s when it is %s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
