export * from './wav';
export * from './mp3-integrity';
export * from './ffmpeg-decoder';
export * from './decode-audio';
export * from './pcm-sink';
export * from './audio-input';
