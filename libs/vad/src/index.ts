export * from './silero-vad-model';
export * from './speech-timestamps';
export * from './cut-and-merge';
export * from './energy-edges';
export * from './silence-gate';
