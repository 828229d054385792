import { LookoutError } from '../src/core/errors.js';

/** `arn:aws:iot:<region>:<account>:thing/<name>` → the thing name; other ARNs give undefined. */
export function thingNameOf(targetArn: string): string | undefined {
  return /^arn:[^:]+:iot:[^:]*:\d*:thing\/([^/]+)$/.exec(targetArn)?.[1];
}

/** `arn:aws:iot:<region>:<account>:thinggroup/<name>` → the group name; other ARNs give undefined. */
export function thingGroupNameOf(targetArn: string): string | undefined {
  return /^arn:[^:]+:iot:[^:]*:\d*:thinggroup\/([^/]+)$/.exec(targetArn)?.[1];
}

/** A deployment target: one thing, or a thing group. */
export type Target = { kind: 'thing'; name: string } | { kind: 'group'; name: string };

export function parseTarget(targetArn: string): Target {
  const thing = thingNameOf(targetArn);
  if (thing) return { kind: 'thing', name: thing };
  const group = thingGroupNameOf(targetArn);
  if (group) return { kind: 'group', name: group };
  throw new LookoutError('USAGE', `${targetArn} is not a thing or thing group ARN (arn:aws:iot:<region>:<account>:thing/<name> or …:thinggroup/<name>)`);
}
