export * from './whisper-types';
export * from './whisper-model';
export * from './model-registry';
export * from './model-download';
export * from './words';
