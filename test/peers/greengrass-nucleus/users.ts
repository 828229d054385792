import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/**
 * The user and group components run as.
 *
 * Facts (developer guide, configure-greengrass-core-v2 "Configure the user that runs components"; nucleus
 * UnixRunWithGenerator): the nucleus runs components as `componentDefaultUser` (the installer creates
 * `ggc_user:ggc_group`), or as the deployment's `runWith.posixUser` ("user" or "user:group"; without a group the
 * user's primary group). When the nucleus itself does not run as root it can only run components as its own user.
 * `RequiresPrivilege: true` runs a step as root (the nucleus's privileged user).
 * Emulator default when root: ggc_user:ggc_group if they exist, else nobody:nogroup.
 */

export interface PosixUser {
  user: string;
  group: string;
  uid: number;
  gid: number;
}

function table(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  const row = table('/etc/passwd').find((r) => r[0] === name || r[2] === name);
  return row ? { uid: Number(row[2]), gid: Number(row[3]) } : undefined;
}

function lookupGroup(name: string): number | undefined {
  const row = table('/etc/group').find((r) => r[0] === name || r[2] === name);
  return row ? Number(row[2]) : undefined;
}

function groupName(gid: number): string {
  return table('/etc/group').find((r) => Number(r[2]) === gid)?.[0] ?? String(gid);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Resolves "user[:group]" to ids; throws when the user or group does not exist (the nucleus fails the step). */
export function resolvePosixUser(spec: string): PosixUser {
  const [user = '', group] = spec.split(':');
  const u = lookupUser(user);
  if (!u) throw new Error(`posix user ${user} does not exist`);
  const gid = group ? lookupGroup(group) : u.gid;
  if (gid === undefined) throw new Error(`posix group ${group ?? ''} does not exist`);
  return { user, group: group ?? groupName(gid), uid: u.uid, gid };
}

/** The default component user, and a note explaining the choice. */
export function defaultComponentUser(requested?: { user: string; group: string }): { runAs: PosixUser; note?: string } {
  if (!isRoot()) {
    const me = userInfo();
    return { runAs: { user: me.username, group: groupName(me.gid), uid: me.uid, gid: me.gid }, note: 'not root: components run as the current user, as a non-root nucleus does' };
  }
  if (requested) return { runAs: resolvePosixUser(`${requested.user}:${requested.group}`) };
  if (lookupUser('ggc_user') && lookupGroup('ggc_group') !== undefined) return { runAs: resolvePosixUser('ggc_user:ggc_group') };
  return { runAs: resolvePosixUser(lookupGroup('nogroup') !== undefined ? 'nobody:nogroup' : 'nobody'), note: 'ggc_user:ggc_group missing: components run as nobody' };
}

export const ROOT_USER: PosixUser = { user: 'root', group: 'root', uid: 0, gid: 0 };
