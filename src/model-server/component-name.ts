import { LookoutError } from '../core/errors.js';

/** Greengrass component names as configuration accepts them (config/slices/common.ts says the same). */
export const COMPONENT_NAME = /^[a-zA-Z0-9-_.]{1,128}$/;
export const MAX_COMPONENT_NAME = 128;

/** How a caller's name appears in messages and logs: at most 40 characters, quoted, never the whole of a long one. */
export function quoteName(name: string): string {
  return name.length <= 40 ? JSON.stringify(name) : `${JSON.stringify(name.slice(0, 40))}… (${name.length} characters)`;
}

/**
 * A model_component from the wire, checked before anything else looks at it: INFERENCE_INVALID_ARGUMENT
 * (gRPC INVALID_ARGUMENT) when it is not a component name. A long name is never echoed whole: a 100 KiB
 * status message does not fit in the response trailers, and the caller would get no answer at all.
 */
export function checkComponentName(name: unknown): string {
  if (typeof name !== 'string' || !COMPONENT_NAME.test(name)) {
    const shown = typeof name === 'string' ? quoteName(name) : typeof name;
    const why = typeof name === 'string' && name.length > MAX_COMPONENT_NAME ? `longer than ${MAX_COMPONENT_NAME} characters` : `not 1-${MAX_COMPONENT_NAME} of a-z A-Z 0-9 - _ .`;
    throw new LookoutError('INFERENCE_INVALID_ARGUMENT', `model_component ${shown} is ${why}`);
  }
  return name;
}
