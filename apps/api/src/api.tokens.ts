/** The API's general-purpose Redis connection (fails fast so requests get a 503, not a hang). */
export const API_REDIS = Symbol('API_REDIS');
/** The one QueueEvents of this process (sync requests wait on it). */
export const TRANSCRIBE_QUEUE_EVENTS = Symbol('TRANSCRIBE_QUEUE_EVENTS');
/** Subscriber connection for /gc replies. */
export const API_SUBSCRIBER = Symbol('API_SUBSCRIBER');
