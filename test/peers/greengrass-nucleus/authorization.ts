import { isObj } from './recipe.js';

/**
 * IPC authorization, after the nucleus's AuthorizationHandler and the developer guide (interprocess-communication,
 * "Authorize components to perform IPC operations"; ipc-iot-core-mqtt; ipc-publish-subscribe).
 *
 * Facts:
 * - Policies live in the component's configuration: `accessControl.<ipc service>.<policy id>.{operations[],
 *   resources[]}`; `*` as operation or resource matches everything. Reading any component's configuration and
 *   UpdateState need no policy.
 * - Refusal: AuthorizationException "Principal %s is not authorized to perform %s:%s on resource %s", sent to the
 *   client as UnauthorizedError.
 * - Local pub/sub (`aws.greengrass.ipc.pubsub`): resources are glob strings: `*` (nucleus ≥ 2.6.0) matches any
 *   combination of characters including `/`; `+` and `#` are literal. So resource `a/*\/b` allows a subscription to
 *   the filter `a/+/b`, and resource `a/#` allows only the literal topic `a/#`.
 * - IoT Core MQTT (`aws.greengrass.ipc.mqttproxy`, ResourceLookupPolicy.MQTT_STYLE): resources may use MQTT
 *   wildcards (`+` one level, `#` the rest) as well as `*`. A requested filter containing `+`/`#` is allowed when a
 *   resource covers it (the request's wildcards are matched as plain characters).
 * - Recipe variables in resources are interpolated only with interpolateComponentConfiguration (see
 *   interpolation.ts); otherwise `{iot:thingName}` is matched literally and every real topic is refused.
 */

export const PUBSUB_SERVICE = 'aws.greengrass.ipc.pubsub';
export const MQTT_PROXY_SERVICE = 'aws.greengrass.ipc.mqttproxy';

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export function globMatches(resource: string, value: string): boolean {
  return resource === '*' || globToRegExp(resource).test(value);
}

export function mqttResourceMatches(resource: string, topic: string): boolean {
  if (resource === topic || globMatches(resource, topic)) return true;
  const r = resource.split('/');
  const t = topic.split('/');
  for (let i = 0; i < r.length; i += 1) {
    const level = r[i] as string;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level === '+') continue;
    if (!globMatches(level, t[i] as string)) return false;
  }
  return r.length === t.length;
}

export class UnauthorizedError extends Error {}

/** Throws UnauthorizedError unless a policy of `component` allows `operation` on `resource`. */
export function authorize(component: string, configuration: Record<string, unknown>, service: string, operation: string, resource: string): void {
  const accessControl = configuration.accessControl;
  const policies = isObj(accessControl) ? accessControl[service] : undefined;
  const matcher = service === MQTT_PROXY_SERVICE ? mqttResourceMatches : globMatches;
  if (isObj(policies)) {
    for (const policy of Object.values(policies)) {
      if (!isObj(policy)) continue;
      const ops = Array.isArray(policy.operations) ? policy.operations.map(String) : [];
      const resources = Array.isArray(policy.resources) ? policy.resources.map(String) : [];
      if (!ops.includes(operation) && !ops.includes('*')) continue;
      if (resources.some((r) => matcher(r, resource))) return;
    }
  }
  throw new UnauthorizedError(`Principal ${component} is not authorized to perform ${service}:${operation} on resource ${resource}`);
}

/** MQTT topic-filter matching for delivering messages (`+` one level, `#` the rest). */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
