/** Where models come from unless HF_ENDPOINT names a mirror (huggingface_hub's variable and default). */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/**
 * The download address of one file of a Hugging Face repository, as huggingface_hub builds it:
 * `<endpoint>/<repo>/resolve/<revision>/<path>`. A mirror set with HF_ENDPOINT serves the same paths.
 */
export function hubFileUrl(repo: string, file: string, endpoint: string = DEFAULT_HF_ENDPOINT, revision = 'main'): string {
  const base = endpoint.replace(/\/+$/, '');
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${base}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** A 64-hex SHA-256 from an ETag-like header value (`"abc…"`, `W/"abc…"`), else undefined. */
export function sha256FromEtag(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const bare = value.trim().replace(/^W\//i, '').replace(/^"(.*)"$/, '$1').toLowerCase();
  return /^[0-9a-f]{64}$/.test(bare) ? bare : undefined;
}
