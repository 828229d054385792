import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceConfig } from '../../config/slices/evidence.js';
import { LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { EvidenceIndex } from '../evidence-index.js';
import { EvidenceStore } from '../evidence-store.js';
import { createSharpImageCodec } from './sharp-image-codec.js';
import { openSqliteEvidenceIndex } from './sqlite-evidence-index.js';

export const EVIDENCE_DB_FILE = 'evidence.sqlite';

export function evidenceDbPath(dir: string): string {
  return join(dir, EVIDENCE_DB_FILE);
}

/** The evidence store on its real adapters: SQLite index at `<dir>/evidence.sqlite`, sharp for JPEG/PNG. */
export function createEvidenceStore(deps: {
  config: EvidenceConfig;
  log: Logger;
  modelVersionOf?: (component: string) => string | undefined;
  now?: () => number;
}): EvidenceStore {
  return new EvidenceStore({
    ...deps,
    openIndex: () => openSqliteEvidenceIndex(evidenceDbPath(deps.config.dir)),
    codec: createSharpImageCodec(),
  });
}

/** Opens the index of an existing evidence directory for the CLI (never creates one at a mistyped path). */
export function openExistingEvidenceIndex(dir: string): EvidenceIndex {
  const path = evidenceDbPath(dir);
  if (!existsSync(path)) throw new LookoutError('USAGE', `no evidence database at ${path} (set --evidence or evidence.dir)`);
  return openSqliteEvidenceIndex(path);
}
