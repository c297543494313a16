import { ConfigError, ENV_VARIABLES, loadConfig } from './env';

describe('model download settings', () => {
  it('defaults: Hugging Face, 60 s stall, 20 s connect', () => {
    expect(loadConfig({})).toMatchObject({ hfEndpoint: 'https://huggingface.co', modelDownloadStallS: 60, modelDownloadConnectTimeoutS: 20 });
  });

  it('reads a mirror and the timeouts', () => {
    const config = loadConfig({ HF_ENDPOINT: ' https://hf-mirror.example.com/hub/ ', MODEL_DOWNLOAD_STALL_S: '5', MODEL_DOWNLOAD_CONNECT_TIMEOUT_S: '2' });
    expect(config).toMatchObject({ hfEndpoint: 'https://hf-mirror.example.com/hub', modelDownloadStallS: 5, modelDownloadConnectTimeoutS: 2 });
    expect(loadConfig({ HF_ENDPOINT: 'http://127.0.0.1:8080' }).hfEndpoint).toBe('http://127.0.0.1:8080');
  });

  it.each([
    ['HF_ENDPOINT', 'huggingface.co'],
    ['HF_ENDPOINT', 'ftp://mirror.example.com'],
    ['HF_ENDPOINT', 'https://mirror.example.com/?token=x'],
    ['MODEL_DOWNLOAD_STALL_S', '0'],
    ['MODEL_DOWNLOAD_CONNECT_TIMEOUT_S', 'soon'],
  ])('fails fast naming %s when it is %s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('lists the variables for the deployment files', () => {
    expect(ENV_VARIABLES).toEqual(expect.arrayContaining(['HF_ENDPOINT', 'MODEL_DOWNLOAD_STALL_S', 'MODEL_DOWNLOAD_CONNECT_TIMEOUT_S']));
  });
});
