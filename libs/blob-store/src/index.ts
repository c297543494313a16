export * from './blob-store';
export * from './audio-source';
