import { promises as dns, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';

/**
 * The guard for every URL our server fetches on someone else's behalf (outbound webhooks, inbound
 * media downloads): only public addresses. A name is resolved and refused when any of its addresses
 * is loopback, private, shared (CGNAT), link-local, multicast, unspecified, reserved, unique-local,
 * or a cloud metadata address, IPv4 and IPv6 alike, including IPv4 addresses wrapped in IPv6
 * (mapped, compatible, NAT64, 6to4). The check runs inside the connection's own DNS lookup, so the
 * address that was checked is the address connected to: a DNS answer that changes between a check
 * and the connection (DNS rebinding) cannot slip through.
 */

export class NonPublicAddressError extends Error {
  readonly code = 'ERR_NON_PUBLIC_ADDRESS';

  constructor(
    readonly host: string,
    readonly address?: string,
  ) {
    super(address && address !== host ? `${host} resolves to ${address}, which is not a public address` : `${host} is not a public address`);
    this.name = 'NonPublicAddressError';
  }
}

const blocked = new BlockList();
const V4_RANGES: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT); includes Alibaba's 100.100.100.200 metadata
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local; includes the 169.254.169.254 metadata service
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes the broadcast 255.255.255.255
];
const V6_RANGES: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo (tunnels to an IPv4 address we cannot check)
  ['2001:10::', 28], // ORCHID
  ['2001:db8::', 32], // documentation
  ['64:ff9b:1::', 48], // local-use NAT64
  ['fc00::', 7], // unique local; includes AWS's fd00:ec2::254 metadata
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];
for (const [network, prefix] of V4_RANGES) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of V6_RANGES) blocked.addSubnet(network, prefix, 'ipv6');
// Metadata services that sit on otherwise public addresses.
blocked.addAddress('168.63.129.16', 'ipv4'); // Azure wire server
blocked.addAddress('fd00:ec2::254', 'ipv6'); // AWS (IPv6)

/** The 16 bytes of an IPv6 address (a valid one, as `isIP` says), embedded dotted quads included. */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups].map((group) => parseInt(group, 16));
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

/** The IPv4 address an IPv6 address carries by a standard embedding, when it does. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  const quad = (from: number) => bytes.slice(from, from + 4).join('.');
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return quad(12); // ::ffff:a.b.c.d (mapped)
  if (zeros(0, 12) && !zeros(12, 16)) return quad(12); // ::a.b.c.d (compatible, deprecated)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12)) return quad(12); // 64:ff9b::/96 NAT64
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return quad(2); // 2002::/16 6to4
  return undefined;
}

/** True when `address` (an IP literal, IPv6 with or without brackets or zone) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(text);
  if (family === 4) return !blocked.check(text, 'ipv4');
  if (family !== 6) return false;
  if (blocked.check(text, 'ipv6')) return false;
  const inner = embeddedIpv4(text);
  return inner === undefined || !blocked.check(inner, 'ipv4');
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

/** The system resolver (getaddrinfo, as connections use), every address of the name. */
export const systemResolver: Resolver = (host) => dns.lookup(host, { all: true, verbatim: true });

/**
 * Every address of `host`, refused whole (NonPublicAddressError) when one of them is not public:
 * a name with one private address could be pointed at it by any answer.
 */
export async function resolvePublicAddresses(host: string, resolve: Resolver = systemResolver): Promise<LookupAddress[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family !== 0) {
    if (!isPublicAddress(bare)) throw new NonPublicAddressError(bare, bare);
    return [{ address: bare, family }];
  }
  const addresses = await resolve(bare);
  if (addresses.length === 0) throw new NonPublicAddressError(bare);
  const refused = addresses.find((entry) => !isPublicAddress(entry.address));
  if (refused) throw new NonPublicAddressError(bare, refused.address);
  return addresses;
}

/**
 * A `lookup` for net/tls connections that resolves with `resolve` and hands the socket only checked
 * addresses: whatever connects through it connects to an address that passed the check.
 */
export function publicOnlyLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolvePublicAddresses(hostname, resolve).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? all.filter((entry) => entry.family === options.family) : all;
        if (wanted.length === 0) {
          const error = Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' });
          return callback(error, '', 0);
        }
        if (options.all) return (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

export interface PublicDispatcherOptions {
  /** Development and tests only: connect to any address. */
  allowPrivate?: boolean;
  connectTimeoutMs?: number;
  resolve?: Resolver;
}

/**
 * An undici dispatcher whose every new connection is checked: IP-literal hosts directly, names
 * through `publicOnlyLookup` (the checked address is the one connected to). Redirects are never
 * followed by undici's `request`; a caller that follows one goes through this check again.
 */
export function createPublicDispatcher(options: PublicDispatcherOptions = {}): Dispatcher {
  const timeout = options.connectTimeoutMs ?? 10_000;
  if (options.allowPrivate) return new Agent({ connect: { timeout } });
  const connector = buildConnector({ timeout, lookup: publicOnlyLookup(options.resolve) } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !isPublicAddress(host)) {
      callback(new NonPublicAddressError(host, host), null);
      return;
    }
    connector(connectOptions, callback);
  };
  return new Agent({ connect });
}

/**
 * Checks a URL before it is fetched or stored: http(s) only, and (unless `allowPrivate`) a host
 * whose addresses are all public. Throws NonPublicAddressError, or TypeError for a malformed URL.
 */
export async function assertPublicUrl(url: string | URL, options: { allowPrivate?: boolean; resolve?: Resolver } = {}): Promise<URL> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`unsupported protocol ${parsed.protocol}`);
  if (!options.allowPrivate) await resolvePublicAddresses(parsed.hostname, options.resolve);
  return parsed;
}
