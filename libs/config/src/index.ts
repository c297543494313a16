export * from './env';
export * from './env-logging';
export * from './env-redis';
export * from './config.module';
export * from './env-blob-store';
