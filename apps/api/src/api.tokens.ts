/** The API's general-purpose Redis connection (fails fast so requests get a 503, not a hang). */
export const API_REDIS = Symbol('API_REDIS');
/** Subscriber connection: worker replies (/gc, /models) and job ends (sync requests wait on them). */
export const API_SUBSCRIBER = Symbol('API_SUBSCRIBER');
