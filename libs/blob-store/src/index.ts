export * from './blob-store';
export * from './audio-source';
export * from './redis-chunked-blob-store';
export * from './blob-store-factory';
export * from './s3-blob-store';
export * from './s3-client';
export * from './s3-blob-store-setup';
