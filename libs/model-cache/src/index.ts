export * from './lru-model-cache';
