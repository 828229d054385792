import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { Logger } from '../core/log.js';
import type { MasksConfig } from '../config/slices/masks.js';
import { encodeMaskPng } from './encode-mask.js';
import type { MaskImages } from './mask-images.js';
import { safeStem } from '../core/safe-name.js';

export interface MaskClass {
  readonly name: string;
  /** `#RRGGBB`. */
  readonly hexColor: string;
}

export interface SaveMaskInput {
  readonly verdictId: string;
  readonly cameraId: string;
  /** RGB888 at the model input size, background black. */
  readonly mask: RgbImage;
  /** The preprocessed frame, for the overlay. */
  readonly frame?: RgbImage;
  readonly classes: readonly MaskClass[];
}

export interface SavedMask {
  /** Paths relative to the masks directory. */
  readonly png: string;
  readonly overlay?: string;
  readonly bytes: number;
  /** The PNG itself, so small masks can travel inline in MQTT payloads without reading the file back. */
  readonly pngBytes: Buffer;
}

export interface MaskStoreDeps {
  readonly config: MasksConfig;
  readonly log: Logger;
  /** PNG quantising and overlays (the composition root passes sharpMaskImages). */
  readonly images: MaskImages;
}

interface StoredFile {
  readonly name: string;
  readonly bytes: number;
  readonly at: number;
}

/**
 * Mask files on disk under a byte quota and a file-count cap. `<camera>/<verdict>.mask.png` and
 * `.overlay.jpg`; the oldest files are deleted first once the total passes `quotaBytes` or the count
 * passes `maxFiles` (the directory is scanned at start, so files from earlier runs count). Writes go
 * to a temp name and are renamed into place. The store remembers every file it keeps (name, size,
 * age: ~350 bytes of heap each, 7 MB at the default 20000), so `maxFiles` also bounds its memory.
 */
export class MaskStore {
  /** Oldest first (a Map keeps insertion order; a rewritten name moves to the end). */
  private files = new Map<string, StoredFile>();
  private total = 0;
  private started = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: MaskStoreDeps) {}

  async start(): Promise<void> {
    if (this.started) return;
    await mkdir(this.deps.config.dir, { recursive: true });
    this.files = new Map((await this.scan()).map((f) => [f.name, f]));
    this.total = [...this.files.values()].reduce((sum, f) => sum + f.bytes, 0);
    this.started = true;
    await this.enforceQuota();
    this.deps.log.info({ files: this.files.size, bytes: this.total }, 'mask store ready');
  }

  async stop(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  usage(): { files: number; bytes: number; quotaBytes: number } {
    return { files: this.files.size, bytes: this.total, quotaBytes: this.deps.config.quotaBytes };
  }

  /** Encodes and writes one mask (and its overlay when configured and a frame is given). */
  save(input: SaveMaskInput): Promise<SavedMask> {
    const run = this.chain.then(() => this.saveNow(input));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async saveNow(input: SaveMaskInput): Promise<SavedMask> {
    if (!this.started) throw new LookoutError('INTERNAL', 'MaskStore.save() before start()');
    const dirName = safeStem(input.cameraId);
    const stem = safeStem(input.verdictId);
    await mkdir(join(this.deps.config.dir, dirName), { recursive: true });
    const png = await encodeMaskPng(input.mask, this.deps.images, input.classes.map((c) => c.hexColor));
    const written: StoredFile[] = [await this.write(`${dirName}/${stem}.mask.png`, png)];
    if (this.deps.config.overlay && input.frame) {
      const jpeg = await this.deps.images.overlayJpeg(input.frame, input.mask, this.deps.config.overlayQuality);
      written.push(await this.write(`${dirName}/${stem}.overlay.jpg`, jpeg));
    }
    const bytes = written.reduce((sum, f) => sum + f.bytes, 0);
    await this.enforceQuota(new Set(written.map((f) => f.name)));
    const [first, second] = written;
    return { png: first?.name ?? '', ...(second ? { overlay: second.name } : {}), bytes, pngBytes: png };
  }

  private async write(name: string, data: Buffer): Promise<StoredFile> {
    const path = join(this.deps.config.dir, name);
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, data);
    await rename(tmp, path);
    const existing = this.files.get(name);
    if (existing) {
      this.total -= existing.bytes;
      this.files.delete(name);
    }
    const file = { name, bytes: data.length, at: Date.now() };
    this.files.set(name, file);
    this.total += file.bytes;
    return file;
  }

  /** Deletes the oldest files until the total and the count fit; never the ones just written. */
  private async enforceQuota(keep: ReadonlySet<string> = new Set()): Promise<void> {
    const { quotaBytes, maxFiles } = this.deps.config;
    const over = () => this.total > quotaBytes || this.files.size > maxFiles;
    let undeletable = 0;
    // Oldest first; deleting visited entries while iterating a Map is well defined (saves are serialised, so nothing else changes it meanwhile).
    for (const f of this.files.values()) {
      if (!over()) break;
      if (keep.has(f.name)) continue;
      try {
        await unlink(join(this.deps.config.dir, f.name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.deps.log.warn({ file: f.name, err: (err as Error).message }, 'could not delete an old mask');
          undeletable += 1;
          continue;
        }
      }
      this.files.delete(f.name);
      this.total -= f.bytes;
    }
    if (over()) this.deps.log.warn({ bytes: this.total, quotaBytes, files: this.files.size, maxFiles, undeletable }, 'masks exceed the quota even after deleting old ones');
  }

  /** Every mask file under the directory (one level of camera folders), oldest first. */
  private async scan(): Promise<StoredFile[]> {
    const root = this.deps.config.dir;
    const out: StoredFile[] = [];
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      for (const file of await readdir(join(root, entry.name), { withFileTypes: true })) {
        if (!file.isFile()) continue;
        const name = `${entry.name}/${file.name}`;
        if (file.name.includes('.tmp-')) {
          await unlink(join(root, name)).catch(() => undefined); // a write interrupted by a crash
          continue;
        }
        if (!/\.(mask\.png|overlay\.jpg)$/.test(file.name)) continue;
        const st = await stat(join(root, name)).catch(() => undefined);
        if (st) out.push({ name, bytes: st.size, at: st.mtimeMs });
      }
    }
    return out.sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
  }
}
