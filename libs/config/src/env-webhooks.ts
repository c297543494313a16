import { isIP } from 'node:net';
import { WEBHOOK_SECRET_EXPECTED, WEBHOOK_SECRET_PATTERN } from '@app/contracts';
import { ConfigError } from './env';

/** Readers of the outbound-request and webhook variables (loadConfig calls them). */

type Env = Record<string, string | undefined>;

// a DNS name: labels of letters, digits and hyphens
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** A comma list of host names or IP literals (no scheme, port or path: the rule is about the host). */
export function hostListVar(env: Env, name: string): string[] {
  const items = (env[name] ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    const bare = item.startsWith('[') && item.endsWith(']') ? item.slice(1, -1) : item;
    if (!isIP(bare) && !HOST_NAME.test(bare)) {
      throw new ConfigError(name, `expected host names or IP addresses such as 127.0.0.1,hooks.internal (no scheme, port or path), got "${item}"`);
    }
  }
  return items;
}

/** A Standard Webhooks secret (whsec_<base64>), or undefined when unset; the value is never echoed. */
export function webhookSecretVar(env: Env, name: string): string | undefined {
  const secret = env[name]?.trim() || undefined;
  if (secret !== undefined && !WEBHOOK_SECRET_PATTERN.test(secret)) throw new ConfigError(name, `expected ${WEBHOOK_SECRET_EXPECTED}`);
  return secret;
}
