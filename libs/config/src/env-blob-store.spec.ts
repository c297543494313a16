import { ConfigError, ENV_VARIABLES, loadConfig } from './env';

describe('BLOB_STORE and S3_*', () => {
  it('are listed', () => {
    expect(ENV_VARIABLES).toEqual(expect.arrayContaining(['BLOB_STORE', 'S3_ENDPOINT', 'S3_BUCKET', 'S3_PREFIX', 'S3_REGION', 'S3_FORCE_PATH_STYLE']));
  });

  it('default to the Redis store and ignore S3_* then', () => {
    const config = loadConfig({ S3_BUCKET: 'Not A Bucket' });
    expect(config.blobStore).toBe('redis');
    expect(config.s3).toBeUndefined();
  });

  it('s3 on AWS: region us-east-1, prefix audio/, virtual-hosted style', () => {
    expect(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'tx-uploads' }).s3).toEqual({ bucket: 'tx-uploads', prefix: 'audio/', region: 'us-east-1', forcePathStyle: false });
  });

  it('s3 with a custom endpoint: path-style unless turned off, trailing slash dropped', () => {
    const env = { BLOB_STORE: 's3', S3_BUCKET: 'b.example', S3_ENDPOINT: 'http://minio:9000/', S3_PREFIX: 'tx/', S3_REGION: 'auto' };
    expect(loadConfig(env).s3).toEqual({ endpoint: 'http://minio:9000', bucket: 'b.example', prefix: 'tx/', region: 'auto', forcePathStyle: true });
    expect(loadConfig({ ...env, S3_FORCE_PATH_STYLE: 'false' }).s3?.forcePathStyle).toBe(false);
    expect(loadConfig({ ...env, S3_FORCE_PATH_STYLE: '1' }).s3?.forcePathStyle).toBe(true);
  });

  it.each([
    ['BLOB_STORE', { BLOB_STORE: 'disk' }],
    ['S3_BUCKET', { BLOB_STORE: 's3' }],
    ['S3_BUCKET', { BLOB_STORE: 's3', S3_BUCKET: 'Upper_Case' }],
    ['S3_ENDPOINT', { BLOB_STORE: 's3', S3_BUCKET: 'b12', S3_ENDPOINT: 'minio:9000' }],
    ['S3_ENDPOINT', { BLOB_STORE: 's3', S3_BUCKET: 'b12', S3_ENDPOINT: 'ftp://minio' }],
    ['S3_ENDPOINT', { BLOB_STORE: 's3', S3_BUCKET: 'b12', S3_ENDPOINT: 'http://key:secret@minio' }],
    ['S3_PREFIX', { BLOB_STORE: 's3', S3_BUCKET: 'b12', S3_PREFIX: '' }],
    ['S3_PREFIX', { BLOB_STORE: 's3', S3_BUCKET: 'b12', S3_PREFIX: '/audio/' }],
    ['S3_REGION', { BLOB_STORE: 's3', S3_BUCKET: 'b12', S3_REGION: 'eu west' }],
    ['S3_FORCE_PATH_STYLE', { BLOB_STORE: 's3', S3_BUCKET: 'b12', S3_FORCE_PATH_STYLE: 'yes please' }],
  ])('%s is refused by name: %j', (name, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
