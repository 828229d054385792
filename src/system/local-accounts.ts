import { readFile } from 'node:fs/promises';
import { LookoutError } from '../core/errors.js';

/**
 * Local user and group names to ids, from /etc/passwd and /etc/group (no NSS: the device's accounts are
 * local, and Node has no getpwnam). A number is taken as the id itself. An unknown name is CONFIG_INVALID,
 * naming the configuration key that held it.
 */

async function lookup(file: string, name: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [entry, , id] = line.split(':');
    if (entry === name && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  return undefined;
}

export async function resolveUserId(user: string, key: string): Promise<number> {
  if (/^\d+$/.test(user)) return Number(user);
  const uid = await lookup('/etc/passwd', user);
  if (uid === undefined) throw new LookoutError('CONFIG_INVALID', `${key}: unknown user ${JSON.stringify(user)}`);
  return uid;
}

export async function resolveGroupId(group: string, key: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const gid = await lookup('/etc/group', group);
  if (gid === undefined) throw new LookoutError('CONFIG_INVALID', `${key}: unknown group ${JSON.stringify(group)}`);
  return gid;
}
