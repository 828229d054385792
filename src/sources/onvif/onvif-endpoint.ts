import { LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { OnvifSourceConfig } from '../../config/slices/sources.js';
import type { OnvifDevices, OnvifProfileInfo } from './onvif-devices.js';

/** WS-Discovery in node-onvif-ts waits 3 s for answers; give it that plus a margin. */
const DISCOVERY_MIN_MS = 4_000;

/**
 * Finds the device (configured xaddr, or the first WS-Discovery match whose name, hardware, scopes
 * or address contain `match`), connects, picks the profile, and remembers the result until reset().
 */
export class OnvifResolver {
  private cached: Promise<OnvifProfileInfo> | undefined;

  constructor(
    private readonly config: OnvifSourceConfig,
    private readonly log: Logger,
    private readonly devices: OnvifDevices,
  ) {}

  resolve(): Promise<OnvifProfileInfo> {
    this.cached ??= this.lookup();
    const current = this.cached;
    current.catch(() => {
      if (this.cached === current) this.cached = undefined;
    });
    return current;
  }

  reset(): void {
    this.cached = undefined;
  }

  private async lookup(): Promise<OnvifProfileInfo> {
    const xaddr = this.config.xaddr ?? (await this.discover());
    const info = await this.devices.connect({
      xaddr,
      ...(this.config.auth ? { username: this.config.auth.username, password: this.config.auth.password } : {}),
      ...(this.config.profile !== undefined ? { profile: this.config.profile } : {}),
      timeoutMs: this.config.timeoutMs,
    });
    this.log.info({ profile: info.name, token: info.token, manufacturer: info.manufacturer, model: info.model }, 'ONVIF device ready');
    return info;
  }

  private async discover(): Promise<string> {
    const devices = await this.devices.discover(Math.max(DISCOVERY_MIN_MS, this.config.timeoutMs));
    const match = this.config.match?.toLowerCase();
    const found = devices.find(
      (d) => match === undefined || [d.name, d.hardware, d.urn, ...d.scopes, ...d.xaddrs].some((s) => s.toLowerCase().includes(match)),
    );
    const xaddr = found?.xaddrs.find((x) => x.startsWith('http'));
    if (!xaddr) {
      throw new LookoutError('SOURCE_UNAVAILABLE', `no ONVIF device found by WS-Discovery${match ? ` matching "${this.config.match}"` : ''}`, { details: { seen: devices.length } });
    }
    return xaddr;
  }
}
