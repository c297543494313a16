export * from './alignment-types';
export * from './ctc-vocabulary';
export * from './transcript-tokens';
export * from './ctc-forced-align';
export * from './alignment-model-registry';
export * from './alignment-model-download';
export * from './wav2vec2-ctc-model';
