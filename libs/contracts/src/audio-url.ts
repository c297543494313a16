/** audio_url: the longest URL accepted (as callback_url and the outbound policy). */
export const AUDIO_URL_MAX_LENGTH = 2048;
/** The form's check (scheme, a host, no spaces, the whole URL at most AUDIO_URL_MAX_LENGTH); the API then resolves the host and applies the SSRF rules. */
export const AUDIO_URL_PATTERN = new RegExp(`^(?=.{1,${AUDIO_URL_MAX_LENGTH}}$)https?://[^\\s/?#]+\\S*$`, 'i');
/** Redirects a download follows at most, each one checked again. */
export const AUDIO_URL_MAX_REDIRECTS = 5;
