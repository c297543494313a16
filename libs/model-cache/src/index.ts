export * from './lru-model-cache';
export * from './download-file';
