export * from './lru-model-cache';
export * from './download-file';
export * from './download-lock';
export * from './hub';
export * from './model-dir-paths';
export * from './in-flight-runs';
export * from './onnx-session';
