import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';

export interface ZipSource {
  /** Path inside the archive (posix, relative). */
  into: string;
  /** File or directory on disk. */
  from: string;
}

export interface ZipResult {
  files: number;
  bytes: number;
  skippedSymlinks: number;
}

/** Every regular file under the sources, in a stable order; symlinks (npm's .bin links) are skipped and counted. */
async function collect(sources: readonly ZipSource[]): Promise<{ entries: { from: string; into: string; mode: number; mtime: Date }[]; skippedSymlinks: number }> {
  const entries: { from: string; into: string; mode: number; mtime: Date }[] = [];
  let skippedSymlinks = 0;
  const walk = async (from: string, into: string): Promise<void> => {
    const info = await lstat(from);
    if (info.isSymbolicLink()) {
      skippedSymlinks += 1;
      return;
    }
    if (info.isDirectory()) {
      const names = (await readdir(from)).sort();
      for (const name of names) await walk(join(from, name), into ? `${into}/${name}` : name);
      return;
    }
    if (info.isFile()) entries.push({ from, into, mode: info.mode, mtime: info.mtime });
  };
  for (const source of sources) await walk(source.from, source.into.split(sep).join('/').replace(/\/+$/, ''));
  return { entries, skippedSymlinks };
}

/** Writes the archive next to its final path and renames it into place when complete. */
export async function zipTree(sources: readonly ZipSource[], outFile: string, compressionLevel = 6): Promise<ZipResult> {
  const { entries, skippedSymlinks } = await collect(sources);
  await mkdir(dirname(outFile), { recursive: true });
  const partial = `${outFile}.partial`;
  const zip = new ZipFile();
  for (const entry of entries) {
    zip.addFile(entry.from, entry.into, { mode: entry.mode, mtime: entry.mtime, compressionLevel });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(partial));
  await rename(partial, outFile);
  return { files: entries.length, bytes: (await stat(outFile)).size, skippedSymlinks };
}

export const toPosix = (root: string, path: string): string => relative(root, path).split(sep).join('/');
