import { loadConfig } from '@app/config';
import { ServiceError } from '@app/contracts';
import { OutboundPolicy } from '@app/outbound';
import { CallbackCheck } from './callback-check.service';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const dns: Record<string, string> = { 'hooks.example': '93.184.215.14', 'intranet.example': '192.168.10.4' };
const policy = (allowed: string[] = []) =>
  new OutboundPolicy(allowed, async (host) => {
    if (!dns[host]) throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    return [{ address: dns[host], family: 4 }];
  });

async function problem(check: CallbackCheck, options: { callbackUrl?: string; callbackSecret?: string }) {
  const error = await check.assertDeliverable(options).then(() => undefined, (e: unknown) => e);
  return error instanceof ServiceError ? { field: error.field, message: error.message, code: error.code } : error;
}

describe('CallbackCheck', () => {
  const withServerSecret = new CallbackCheck(loadConfig({ WEBHOOK_SECRET: SECRET }), policy());
  const withoutServerSecret = new CallbackCheck(loadConfig({}), policy(['intranet.example']));

  it('accepts a public callback with either secret, and no callback at all', async () => {
    await expect(withServerSecret.assertDeliverable({ callbackUrl: 'https://hooks.example/x' })).resolves.toBeUndefined();
    await expect(withoutServerSecret.assertDeliverable({ callbackUrl: 'https://hooks.example/x', callbackSecret: SECRET })).resolves.toBeUndefined();
    await expect(withoutServerSecret.assertDeliverable({})).resolves.toBeUndefined();
  });

  it('needs a secret from the request or the server', async () => {
    expect(await problem(withoutServerSecret, { callbackUrl: 'https://hooks.example/x' })).toMatchObject({ field: 'callback_url', code: 'validation_failed', message: expect.stringMatching(/WEBHOOK_SECRET/) });
  });

  it('refuses a secret without a URL', async () => {
    expect(await problem(withServerSecret, { callbackSecret: SECRET })).toMatchObject({ field: 'callback_secret' });
  });

  it('refuses private and unresolvable hosts unless allow-listed', async () => {
    expect(await problem(withServerSecret, { callbackUrl: 'http://intranet.example/' })).toMatchObject({ field: 'callback_url', message: expect.stringMatching(/private.*192\.168\.10\.4/) });
    expect(await problem(withServerSecret, { callbackUrl: 'http://gone.example/' })).toMatchObject({ field: 'callback_url', message: expect.stringMatching(/does not resolve/) });
    await expect(withoutServerSecret.assertDeliverable({ callbackUrl: 'http://intranet.example/', callbackSecret: SECRET })).resolves.toBeUndefined();
  });
});
