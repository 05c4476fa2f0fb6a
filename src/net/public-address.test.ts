import type { LookupAddress } from 'node:dns';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../test/webhooks-receiver.js';
import { NonPublicAddressError, assertPublicUrl, createPublicDispatcher, isPublicAddress, publicOnlyLookup, resolvePublicAddresses, type Resolver } from './public-address.js';

// These tests resolve names and classify addresses; the only traffic they send goes to 127.0.0.1.

const NOT_PUBLIC = [
  '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.0.1', '192.168.255.255',
  '100.64.0.1', '100.127.255.255', '169.254.0.1', '169.254.169.254', '0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.250',
  '255.255.255.255', '240.0.0.1', '198.18.0.1', '192.0.2.1', '168.63.129.16', '100.100.100.200',
  '::', '::1', 'fc00::1', 'fd00::1', 'fdff:ffff::1', 'fd00:ec2::254', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'ff02::1', 'ff05::2',
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:192.168.1.1', '::127.0.0.1',
  '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::1', '2002:a00:1::', '2001:db8::1', '[::1]', 'not an address', '',
];
const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '169.253.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];

describe('isPublicAddress', () => {
  it.each(NOT_PUBLIC)('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));
  it.each(PUBLIC)('accepts %s', (address) => expect(isPublicAddress(address)).toBe(true));
});

const fakeResolver = (answers: Record<string, string[][]>): Resolver => {
  const calls = new Map<string, number>();
  return async (host) => {
    const list = answers[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    const n = calls.get(host) ?? 0;
    calls.set(host, n + 1);
    return list[Math.min(n, list.length - 1)]!.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
};

describe('resolvePublicAddresses', () => {
  it('refuses localhost, which resolves to loopback', async () => {
    await expect(resolvePublicAddresses('localhost')).rejects.toBeInstanceOf(NonPublicAddressError);
  });

  it('refuses IP literals of private ranges without resolving them', async () => {
    const resolve = async () => { throw new Error('must not resolve'); };
    for (const host of ['127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.1.1', '169.254.169.254', '[::1]', '[fc00::1]']) {
      await expect(resolvePublicAddresses(host, resolve), host).rejects.toBeInstanceOf(NonPublicAddressError);
    }
    expect(await resolvePublicAddresses('8.8.8.8', resolve)).toEqual([{ address: '8.8.8.8', family: 4 }]);
  });

  it('refuses a name when any of its addresses is not public', async () => {
    const resolve = fakeResolver({ 'mixed.test': [['93.184.216.34', '10.0.0.5']], 'v6.test': [['2606:4700::1', 'fd12::1']], 'ok.test': [['93.184.216.34', '2606:4700::1']] });
    await expect(resolvePublicAddresses('mixed.test', resolve)).rejects.toThrow('mixed.test resolves to 10.0.0.5, which is not a public address');
    await expect(resolvePublicAddresses('v6.test', resolve)).rejects.toBeInstanceOf(NonPublicAddressError);
    expect((await resolvePublicAddresses('ok.test', resolve)).map((a) => a.address)).toEqual(['93.184.216.34', '2606:4700::1']);
  });

  it('assertPublicUrl checks the protocol and the host, unless private URLs are allowed', async () => {
    await expect(assertPublicUrl('ftp://example.com/')).rejects.toBeInstanceOf(TypeError);
    await expect(assertPublicUrl('http://127.0.0.1:8080/')).rejects.toBeInstanceOf(NonPublicAddressError);
    await expect(assertPublicUrl('http://[::ffff:169.254.169.254]/')).rejects.toBeInstanceOf(NonPublicAddressError);
    expect((await assertPublicUrl('http://127.0.0.1:8080/x', { allowPrivate: true })).port).toBe('8080');
  });
});

describe('publicOnlyLookup (what connections use)', () => {
  const lookupOnce = (lookup: ReturnType<typeof publicOnlyLookup>, host: string, options: { all?: boolean; family?: number } = {}) =>
    new Promise<{ error: Error | null; address: unknown; family?: number }>((resolve) => {
      lookup(host, options as never, (error, address, family) => resolve({ error, address, family }));
    });

  it('validates every resolution: an answer that changes to a private address is refused', async () => {
    const lookup = publicOnlyLookup(fakeResolver({ 'rebind.test': [['93.184.216.34'], ['127.0.0.1']] }));
    expect(await lookupOnce(lookup, 'rebind.test')).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    const second = await lookupOnce(lookup, 'rebind.test');
    expect(second.error).toBeInstanceOf(NonPublicAddressError);
  });

  it('answers in the shape net.connect asks for (all, family)', async () => {
    const lookup = publicOnlyLookup(fakeResolver({ 'dual.test': [['93.184.216.34', '2606:4700::1']] }));
    expect((await lookupOnce(lookup, 'dual.test', { all: true })).address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ]);
    expect(await lookupOnce(lookup, 'dual.test', { family: 6 })).toEqual({ error: null, address: '2606:4700::1', family: 6 });
  });
});

describe('createPublicDispatcher', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('refuses to connect to loopback by IP literal or by name; connects when private URLs are allowed', async () => {
    const port = new URL(receiver.url).port;
    const guarded = createPublicDispatcher();
    try {
      for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::1]:${port}/`]) {
        const error = await request(url, { dispatcher: guarded }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error, url).toBeInstanceOf(NonPublicAddressError);
      }
      // A name whose (fake) DNS answer is loopback: refused inside the connection's own lookup.
      const rebinding = createPublicDispatcher({ resolve: fakeResolver({ 'rebind.test': [['127.0.0.1']] }) });
      await expect(request(`http://rebind.test:${port}/`, { dispatcher: rebinding })).rejects.toBeInstanceOf(NonPublicAddressError);
      await rebinding.close();
      expect(receiver.received).toHaveLength(0);
    } finally {
      await guarded.close();
    }
    const open = createPublicDispatcher({ allowPrivate: true });
    const response = await request(`http://127.0.0.1:${port}/`, { dispatcher: open });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
    await open.close();
    expect(receiver.received).toHaveLength(1);
  });
});
