export * from './cues';
export * from './language-names';
export * from './timestamps';
export * from './writers';
