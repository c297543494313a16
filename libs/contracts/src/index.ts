export * from './queue';
export * from './errors';
export * from './models';
export * from './languages';
export * from './precision';
export * from './jobs';
export * from './workers';
export * from './job-validation';
