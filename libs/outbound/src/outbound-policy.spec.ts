import { OutboundPolicy, OutboundRefusedError } from './outbound-policy';

/** A resolver with fixed answers, so the rules are tested without real DNS. */
const answers: Record<string, string[]> = {
  'public.example': ['93.184.215.14'],
  'rebind.example': ['93.184.215.14', '10.0.0.5'],
  'v6.example': ['2606:4700::1'],
  'metadata.example': ['169.254.169.254'],
  'internal.corp': ['10.1.2.3'],
};
const fakeLookup = async (host: string) => {
  const list = answers[host];
  if (!list) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const refusal = async (policy: OutboundPolicy, url: string): Promise<string> => {
  const error = await policy.check(url).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboundRefusedError);
  return (error as Error).message;
};

describe('OutboundPolicy', () => {
  const policy = new OutboundPolicy([], fakeLookup);

  it('resolves a public host and pins its first address', async () => {
    await expect(policy.check('https://public.example/hook?x=1')).resolves.toMatchObject({ host: 'public.example', address: '93.184.215.14', family: 4, allowListed: false });
    await expect(policy.check('http://v6.example/')).resolves.toMatchObject({ address: '2606:4700::1', family: 6 });
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['http://10.0.0.1/', /private/],
    ['http://127.0.0.1:8080/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /IPv4-mapped loopback/],
    ['http://[fd00:ec2::254]/', /cloud metadata/],
    ['http://2130706433/', /loopback/],
    ['http://0x7f.1/', /loopback/],
    ['http://0/', /unspecified/],
    ['http://metadata.example/', /cloud metadata.*metadata\.example resolves to 169\.254\.169\.254/],
  ])('refuses %s', async (url, reason) => {
    expect(await refusal(policy, url)).toMatch(reason);
  });

  it('refuses a name with one private answer among public ones', async () => {
    expect(await refusal(policy, 'http://rebind.example/')).toMatch(/private.*10\.0\.0\.5/);
  });

  it('refuses other schemes, credentials, overlong and unresolvable URLs', async () => {
    expect(await refusal(policy, 'ftp://public.example/')).toMatch(/only http and https/);
    expect(await refusal(policy, 'file:///etc/passwd')).toMatch(/only http and https/);
    expect(await refusal(policy, 'not a url')).toMatch(/absolute http/);
    expect(await refusal(policy, 'http://user:pw@public.example/')).toMatch(/credentials/);
    expect(await refusal(policy, `http://public.example/${'a'.repeat(2048)}`)).toMatch(/longer than 2048/);
    expect(await refusal(policy, 'http://nowhere.example/')).toMatch(/does not resolve \(ENOTFOUND\)/);
  });

  it('lets allow-listed hosts through, matching the URL host (any IP spelling), never a resolved address', async () => {
    const allowing = new OutboundPolicy(['127.0.0.1', 'Internal.Corp', '::1'], fakeLookup);
    await expect(allowing.check('http://127.0.0.1:9000/hook')).resolves.toMatchObject({ address: '127.0.0.1', allowListed: true });
    await expect(allowing.check('http://[::ffff:7f00:1]/')).rejects.toThrow(/IPv4-mapped loopback/);
    await expect(allowing.check('http://[0:0::1]/')).resolves.toMatchObject({ allowListed: true });
    await expect(allowing.check('http://internal.corp./x')).resolves.toMatchObject({ address: '10.1.2.3', allowListed: true });
    // localhost resolves to 127.0.0.1, which is listed, but the name is not: refused
    const withLocalhost = new OutboundPolicy(['127.0.0.1'], async () => [{ address: '127.0.0.1', family: 4 }]);
    expect(await refusal(withLocalhost, 'http://localhost:1/')).toMatch(/loopback.*localhost resolves to 127\.0\.0\.1/);
  });
});
