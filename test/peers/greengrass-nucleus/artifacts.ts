import { chmod, chown, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import yauzl from 'yauzl';
import type { ArtifactSpec } from './recipe.js';
import type { PosixUser } from './users.js';

/**
 * Artifact download, unarchive and permissions.
 *
 * Facts:
 * - Layout (NucleusPaths): `packages/artifacts/<name>/<version>/<file>`; unarchived:
 *   `packages/artifacts-unarchived/<name>/<version>/`. Recipe reference, Unarchive: "ZIP – The file is a ZIP
 *   archive … the AWS IoT Greengrass Core software decompresses the archive to a folder with the same name as the
 *   archive" (e.g. `{artifacts:decompressedPath}/main2/main.py` for main2.zip, re:Post answer). The archive's own
 *   top folder, if any, is kept below that folder (the nucleus ZipUnarchiver writes entries by their path).
 * - Permission: Read/Execute NONE | OWNER | ALL; defaults Read OWNER, Execute NONE; "Artifact files … are owned by
 *   the component's system user" (RunWithPathOwnershipHandler) so OWNER means that user; other users can read
 *   only with ALL. Applied to every file of an unarchived ZIP too. Directories stay traversable.
 * - A failed download fails the deployment before any component changes (DeploymentService: download is the
 *   "prepare" phase).
 * - Zip entries escaping the target folder are refused (zip-slip check in the nucleus's unarchiver).
 * - Every deployment prepares every component version in it, unchanged ones too (ComponentManager.preparePackages),
 *   but an artifact already in the store is not downloaded again (ArtifactDownloader.downloadRequired: the file
 *   exists and its digest matches the recipe's, which the cloud computed from the same S3 object; here: the same
 *   bytes), and unarchiving writes only the entries whose file is missing or of another size (Unarchiver.unzip:
 *   "Only unarchive when the destination file doesn't exist or the file sizes don't match"). Nothing is removed
 *   from the unarchived folder: what a component wrote there stays. Permissions are applied again each time.
 */

export function fileNameOf(uri: string): string {
  return basename(uri.replace(/[?#].*$/, ''));
}

function mode(spec: ArtifactSpec): number {
  const r = spec.read === 'ALL' ? 0o444 : spec.read === 'OWNER' ? 0o400 : 0;
  const x = spec.execute === 'ALL' ? 0o111 : spec.execute === 'OWNER' ? 0o100 : 0;
  return r | x;
}

async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkFiles(p)));
    else out.push(p);
  }
  return out;
}

async function walkDirs(dir: string): Promise<string[]> {
  const out = [dir];
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) out.push(...(await walkDirs(join(dir, entry.name))));
  return out;
}

export async function unzipInto(zip: Buffer, target: string): Promise<void> {
  const root = resolve(target);
  await mkdir(root, { recursive: true });
  const file = await new Promise<yauzl.ZipFile>((ok, fail) => yauzl.fromBuffer(zip, { lazyEntries: true }, (err, zf) => (err || !zf ? fail(err ?? new Error('bad zip')) : ok(zf))));
  await new Promise<void>((ok, fail) => {
    file.on('error', fail);
    file.on('end', ok);
    file.on('entry', (entry: yauzl.Entry) => {
      const dest = resolve(root, entry.fileName);
      if (dest !== root && !dest.startsWith(root + sep)) {
        fail(new Error(`zip entry ${entry.fileName} escapes the target folder`));
        return;
      }
      if (entry.fileName.endsWith('/')) {
        mkdir(dest, { recursive: true }).then(() => file.readEntry(), fail);
        return;
      }
      const extract = () =>
        file.openReadStream(entry, (err, stream) => {
          if (err || !stream) return fail(err ?? new Error('zip entry unreadable'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', fail);
          stream.on('end', () => {
            mkdir(dirname(dest), { recursive: true })
              .then(() => rm(dest, { force: true })) // an earlier version's file, perhaps read-only
              .then(() => writeFile(dest, Buffer.concat(chunks)))
              .then(() => file.readEntry(), fail);
          });
        });
      // already there at its size: left as it is (the nucleus's Unarchiver does the same)
      lstat(dest)
        .then((st) => st.isFile() && st.size === entry.uncompressedSize, () => false)
        .then((present) => (present ? file.readEntry() : extract()), fail);
    });
    file.readEntry();
  });
}

export interface ArtifactPaths {
  artifacts: string;
  unarchived: string;
}

/** Downloads (unless already stored) and prepares every artifact of one component version. */
export async function prepareArtifacts(
  specs: ArtifactSpec[],
  paths: ArtifactPaths,
  owner: PosixUser,
  fetch: (uri: string) => Promise<Buffer>,
  chownAllowed: boolean,
): Promise<void> {
  await mkdir(paths.artifacts, { recursive: true });
  for (const spec of specs) {
    const name = fileNameOf(spec.uri);
    const file = join(paths.artifacts, name);
    const bytes = await fetch(spec.uri);
    const stored = await readFile(file).catch(() => undefined);
    if (!stored?.equals(bytes)) {
      await rm(file, { force: true });
      await writeFile(file, bytes);
    }
    const files = [file];
    if (spec.unarchive === 'ZIP') {
      const target = join(paths.unarchived, name.replace(/\.zip$/i, ''));
      await unzipInto(bytes, target);
      files.push(...(await walkFiles(target)));
      for (const d of await walkDirs(target)) {
        await chmod(d, 0o755);
        if (chownAllowed) await chown(d, owner.uid, owner.gid);
      }
    }
    for (const f of files) {
      await chmod(f, mode(spec));
      if (chownAllowed) await chown(f, owner.uid, owner.gid);
    }
  }
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
