import { ConfigError, ENV_VARIABLES, loadConfig } from './env';

describe('CORS_ORIGINS', () => {
  it('is read by loadConfig', () => {
    expect(ENV_VARIABLES).toContain('CORS_ORIGINS');
  });

  it('unset or empty: no origin (same-origin only)', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: ' , ' }).corsOrigins).toEqual([]);
  });

  it('a comma list of origins, trimmed, deduplicated, as browsers send them', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:3000,https://APP.example.com' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
  });

  it('"*" alone: any origin', () => {
    expect(loadConfig({ CORS_ORIGINS: ' * ' }).corsOrigins).toEqual(['*']);
  });

  it.each([
    ['*,https://app.example.com', '"*" allows every origin'],
    ['https://app.example.com/', 'got "https://app.example.com/"'],
    ['https://app.example.com/path', 'scheme, host and a non-default port only'],
    ['app.example.com', 'got "app.example.com"'],
    ['ftp://files.example.com', 'got "ftp://files.example.com"'],
    ['https://app.example.com:443', 'got "https://app.example.com:443"'],
  ])('refuses %s at boot, naming the variable', (value, message) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow('CORS_ORIGINS');
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(message);
  });
});
