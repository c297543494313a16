export * from './redis-connection';
export * from './local-redis';
export * from './redis-errors';
export * from './transcribe-queue.module';
export * from './redis-database-check';
export * from './replica-ack';
export * from './job-event-append';
