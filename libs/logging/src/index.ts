export * from './log-context';
export * from './request-id';
export * from './root-logger';
export * from './nest-logger';
export * from './setup';
