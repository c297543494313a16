import { ConfigError, ENV_VARIABLES, loadConfig } from './env';

describe('webhook and outbound settings', () => {
  it('are listed and have defaults', () => {
    expect(ENV_VARIABLES).toEqual(expect.arrayContaining(['WEBHOOK_SECRET', 'OUTBOUND_ALLOWED_HOSTS', 'WEBHOOK_MAX_ATTEMPTS', 'WEBHOOK_RETRY_BASE_MS']));
    expect(loadConfig({})).toMatchObject({ webhookSecret: undefined, outboundAllowedHosts: [], webhookMaxAttempts: 8, webhookRetryBaseMs: 30_000 });
  });

  it('reads a Standard Webhooks secret and a host list', () => {
    const config = loadConfig({
      WEBHOOK_SECRET: ' whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ',
      OUTBOUND_ALLOWED_HOSTS: '127.0.0.1, hooks.internal ,[::1],fd00::5',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_MS: '500',
    });
    expect(config).toMatchObject({
      webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      outboundAllowedHosts: ['127.0.0.1', 'hooks.internal', '[::1]', 'fd00::5'],
      webhookMaxAttempts: 3,
      webhookRetryBaseMs: 500,
    });
  });

  it.each([
    ['WEBHOOK_SECRET', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['WEBHOOK_SECRET', 'whsec_c2hvcnQ='],
    ['WEBHOOK_SECRET', 'whsec_not base64 at all, not base64 at all'],
    ['OUTBOUND_ALLOWED_HOSTS', 'http://127.0.0.1'],
    ['OUTBOUND_ALLOWED_HOSTS', '127.0.0.1:8080'],
    ['OUTBOUND_ALLOWED_HOSTS', 'hooks.internal/path'],
    ['WEBHOOK_MAX_ATTEMPTS', '0'],
    ['WEBHOOK_RETRY_BASE_MS', '10'],
  ])('refuses %s=%s with the variable name', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('never echoes a wrong secret', () => {
    expect(() => loadConfig({ WEBHOOK_SECRET: 'supersecretvalue' })).toThrow(/^(?!.*supersecretvalue)/s);
  });
});
