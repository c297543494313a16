export * from './lru-model-cache';
export * from './download-file';
export * from './model-dir-paths';
export * from './in-flight-runs';
