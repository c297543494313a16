export * from './openai-form';
export * from './openai-models';
export * from './openai-responses';
export * from './openai-stream';
