export * from './env';
export * from './env-logging';
export * from './config.module';
