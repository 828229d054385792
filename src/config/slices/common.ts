import { z } from 'zod';

/** Building blocks shared by several slices. */

export const durationMs = z.number().int().min(0).max(86_400_000);
export const positiveInt = z.number().int().positive();
export const byteSize = z.number().int().min(0);
export const hostAddress = z.string().min(1).max(255);
export const port = z.number().int().min(0).max(65_535);
/** Identifiers that end up in MQTT topics and file names: no wildcards, separators or dots-only. */
export const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'use 1-128 of A-Z a-z 0-9 _ . - (starting with a letter or digit)');
/** A Greengrass component name, as Lookout for Vision used for models. */
export const componentName = z.string().regex(/^[a-zA-Z0-9-_.]{1,128}$/, 'a component name: 1-128 of a-z A-Z 0-9 - _ .');
export const secret = z.string().min(1).max(4096);
/** A local user: its name (looked up in /etc/passwd when used) or its uid. */
export const localUser = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/, 'a user name or uid');
