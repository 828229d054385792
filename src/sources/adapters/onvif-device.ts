import { OnvifDevice, startProbe, type Probe } from 'node-onvif-ts';
import { LookoutError } from '../../core/errors.js';
import { withDeadline } from '../../core/deadline.js';
import type { DiscoveredDevice, OnvifConnectOptions, OnvifProfileInfo } from '../onvif/onvif-devices.js';

/**
 * The only module that touches node-onvif-ts. Its known defects are kept out here:
 * - every call races a deadline (fetchSnapshot never settles on non-200; we never call it: the
 *   source GETs the snapshot URI with its own fetcher, which also does Digest right);
 * - it prints errors with console.log, which would corrupt JSON logs on stdout: console.log is
 *   silenced while any library call is in flight;
 * - one OnvifDevice per connection, init() called once (a second init() duplicates profiles);
 * - the `xaddr` constructor form only (`address` corrupts stream URIs).
 */

let silenced = 0;
let savedLog: typeof console.log | undefined;

/** Runs `fn` with console.log muted (reference counted: calls may overlap). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  if (silenced === 0) {
    /* eslint-disable no-console -- muting the library's own console.log, not logging */
    savedLog = console.log;
    console.log = () => undefined;
    /* eslint-enable no-console */
  }
  silenced += 1;
  try {
    return await fn();
  } finally {
    silenced -= 1;
    if (silenced === 0 && savedLog) {
      console.log = savedLog; // eslint-disable-line no-console -- restoring it
      savedLog = undefined;
    }
  }
}

function translate(err: unknown, what: string): LookoutError {
  if (err instanceof LookoutError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/\b401\b|NotAuthorized|Unauthori[sz]ed|Sender not Authorized/i.test(message)) {
    return new LookoutError('SOURCE_AUTH_FAILED', `ONVIF ${what}: ${message}`, { cause: err });
  }
  if (/Network Error|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|socket hang up/i.test(message)) {
    return new LookoutError('SOURCE_UNAVAILABLE', `ONVIF ${what}: ${message}`, { cause: err });
  }
  return new LookoutError('SOURCE_PROTOCOL', `ONVIF ${what}: ${message}`, { cause: err });
}

/** Connects to one device (a fresh OnvifDevice, init() once) and picks a profile. */
export async function connectOnvifDevice(o: OnvifConnectOptions): Promise<OnvifProfileInfo> {
  const device = new OnvifDevice({ xaddr: o.xaddr, ...(o.username ? { user: o.username, pass: o.password ?? '' } : {}) });
  try {
    // quiet until the library call itself settles (its own 3 s HTTP timeout ends it), not just
    // until our deadline: a late console.log must not reach stdout either
    await withDeadline(quietly(() => device.init()), o.timeoutMs, 'ONVIF init', 'SOURCE_UNAVAILABLE');
  } catch (err) {
    throw translate(err, 'init');
  }
  const profiles = device.getProfileList();
  const chosen = o.profile === undefined ? profiles[0] : profiles.find((p) => p.token === o.profile || p.name === o.profile);
  if (!chosen) {
    throw new LookoutError('SOURCE_PROTOCOL', o.profile === undefined ? 'ONVIF device has no media profile' : `ONVIF profile "${o.profile}" not found`, {
      retryable: false,
      details: { profiles: profiles.map((p) => ({ name: p.name, token: p.token })) },
    });
  }
  const info = device.getInformation() as { Manufacturer?: string; Model?: string } | null;
  return {
    name: chosen.name,
    token: chosen.token,
    ...(chosen.snapshot ? { snapshotUri: chosen.snapshot } : {}),
    ...(chosen.stream?.rtsp ? { streamUri: chosen.stream.rtsp } : {}),
    ...(info?.Manufacturer ? { manufacturer: String(info.Manufacturer) } : {}),
    ...(info?.Model ? { model: String(info.Model) } : {}),
  };
}

let probing: Promise<unknown> = Promise.resolve();

/**
 * WS-Discovery probe (multicast 239.255.255.250:3702; the library waits 3 s). The library keeps
 * its probe state in module globals, so probes are serialised here.
 */
export function discoverOnvifDevices(timeoutMs: number): Promise<DiscoveredDevice[]> {
  const run = probing.then(async () => {
    try {
      const found: Probe[] = await withDeadline(quietly(() => startProbe()), timeoutMs, 'ONVIF discovery', 'SOURCE_UNAVAILABLE');
      return found.map((p) => ({ urn: p.urn, name: p.name, hardware: p.hardware, xaddrs: p.xaddrs, scopes: p.scopes }));
    } catch (err) {
      throw translate(err, 'discovery');
    }
  });
  probing = run.catch(() => undefined);
  return run;
}
