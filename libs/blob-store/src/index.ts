export * from './blob-store';
export * from './audio-source';
export * from './redis-chunked-blob-store';
export * from './blob-store-factory';
