import { translateAwsError } from './translate-error.js';

/** Pages read at most per listing: 100 pages of 100–250 items is far past any fleet this CLI follows. */
const MAX_PAGES = 100;

/** Runs one SDK call, turning its failure into a LookoutError that names the call. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateAwsError(err, what);
  }
}

/** Like `call`, but a ResourceNotFoundException (HTTP 404) answers undefined. */
export async function callOrMissing<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e?.name === 'ResourceNotFoundException' || e?.$metadata?.httpStatusCode === 404) return undefined;
    throw translateAwsError(err, what);
  }
}

/** Follows `nextToken` until the last page. */
export async function paginate<T>(fetch: (nextToken?: string) => Promise<{ items: T[]; nextToken?: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { items, nextToken } = await fetch(token);
    all.push(...items);
    if (!nextToken) break;
    token = nextToken;
  }
  return all;
}
