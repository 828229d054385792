/**
 * The port an ONVIF camera reaches its device through: connect to one device and pick a profile, or find
 * devices by WS-Discovery. Errors are LookoutErrors (SOURCE_AUTH_FAILED, SOURCE_UNAVAILABLE, SOURCE_PROTOCOL).
 * The adapter is sources/adapters/onvif-device.ts, given by the composition root.
 */

export interface OnvifProfileInfo {
  readonly name: string;
  readonly token: string;
  readonly snapshotUri?: string;
  readonly streamUri?: string;
  readonly manufacturer?: string;
  readonly model?: string;
}

export interface OnvifConnectOptions {
  readonly xaddr: string;
  readonly username?: string;
  readonly password?: string;
  /** A profile name or token; the first profile when absent. */
  readonly profile?: string;
  readonly timeoutMs: number;
}

export interface DiscoveredDevice {
  readonly urn: string;
  readonly name: string;
  readonly hardware: string;
  readonly xaddrs: readonly string[];
  readonly scopes: readonly string[];
}

export interface OnvifDevices {
  /** Connects to one device (a fresh connection each time) and picks a profile. */
  connect(options: OnvifConnectOptions): Promise<OnvifProfileInfo>;
  /** The devices that answer a WS-Discovery probe within `timeoutMs`. */
  discover(timeoutMs: number): Promise<DiscoveredDevice[]>;
}
