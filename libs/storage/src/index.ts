export * from './audio-store';
export * from './redis-connection';
