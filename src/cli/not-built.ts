import { LookoutError } from '../core/errors.js';

/** For commands whose issue has not landed yet; replaced as each lands. */
export function notBuiltYet(name: string): never {
  throw new LookoutError('NOT_IMPLEMENTED', `\`lookout-edge ${name}\` is not built yet`);
}
