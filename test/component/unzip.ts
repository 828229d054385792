import { createWriteStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

/** Lists a zip's entry names (yauzl, as the nucleus would read it: central directory first). */
export function listZip(file: string): Promise<Map<string, { mode: number; size: number }>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const entries = new Map<string, { mode: number; size: number }>();
      zip.on('entry', (entry: yauzl.Entry) => {
        entries.set(entry.fileName, { mode: (entry.externalFileAttributes >>> 16) & 0o7777, size: entry.uncompressedSize });
        zip.readEntry();
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Unpacks a zip into `dest`, keeping unix modes, refusing entries that leave `dest`; up to 32 files written at once. */
export function unzip(file: string, dest: string): Promise<number> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      let count = 0;
      let writing = 0;
      let ended = false;
      let waiting = false;
      const next = () => {
        if (writing < 32) zip.readEntry();
        else waiting = true;
      };
      const finished = () => {
        writing -= 1;
        count += 1;
        if (waiting) {
          waiting = false;
          zip.readEntry();
        }
        if (ended && writing === 0) resolve(count);
      };
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = normalize(join(dest, entry.fileName));
        if (!target.startsWith(normalize(dest))) return reject(new Error(`entry escapes: ${entry.fileName}`));
        if (entry.fileName.endsWith('/')) {
          mkdir(target, { recursive: true }).then(next, reject);
          return;
        }
        writing += 1;
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr) return reject(streamErr);
          const mode = (entry.externalFileAttributes >>> 16) & 0o777;
          mkdir(dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(() => (mode ? chmod(target, mode) : undefined))
            .then(finished, reject);
        });
        next();
      });
      zip.on('end', () => {
        ended = true;
        if (writing === 0) resolve(count);
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}
