/** Injection token for the worker's general-purpose Redis connection. */
export const WORKER_REDIS = Symbol('WORKER_REDIS');
