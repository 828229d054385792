import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sourceRecipePath } from '../../component/build-component.js';
import { buildPaths } from '../../component/paths.js';
import { parseRecipe, type Recipe, recipeToYaml, renderAppRecipe } from '../../component/render-recipe.js';
import { createAwsApis, type AwsOptions } from '../../deploy/adapters/aws-clients.js';
import type { AwsApis } from '../../deploy/api.js';
import { AwsEndpoint, FAKE_CREDENTIALS, TEST_REGION } from '../peers/aws-endpoint.js';

export const root = new URL('../../', import.meta.url).pathname;
export const GROUP = 'arn:aws:iot:eu-west-1:123456789012:thinggroup/line-1';

/** A started endpoint and real SDK clients pointed at it. */
export async function startAws(options: Partial<AwsOptions> = {}): Promise<{ aws: AwsEndpoint; apis: AwsApis }> {
  const aws = new AwsEndpoint();
  await aws.start();
  const apis = createAwsApis({ endpointUrl: aws.url, region: TEST_REGION, credentials: FAKE_CREDENTIALS, maxAttempts: 3, ...options });
  return { aws, apis };
}

/** A gdk build folder holding the real recipes built for x64, with a small stand-in archive. */
export async function fakeBuild(version = '1.4.0', bucket?: string): Promise<{ dir: string; zip: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'le-deploy-'));
  const zip = Buffer.from('PK\u0005\u0006'.padEnd(22, '\0'));
  for (const name of ['com.lookoutedge.Inspector', 'com.lookoutedge.ModelServer']) {
    const source = parseRecipe(await readFile(await sourceRecipePath(root, name), 'utf8'), name);
    const built = renderAppRecipe(source, { version, arches: ['x64'], ...(bucket ? { bucket } : {}) });
    const paths = buildPaths(dir);
    await mkdir(paths.recipes, { recursive: true });
    await writeFile(paths.recipe(`${name}.yaml`), recipeToYaml(built));
    await mkdir(paths.artifactDir(name, version), { recursive: true });
    await writeFile(paths.appZip(name, version, 'x64'), zip);
  }
  return { dir, zip };
}

export function recipeOf(body: Record<string, unknown> | undefined): Recipe {
  return parse(Buffer.from(String(body?.inlineRecipe), 'base64').toString('utf8')) as Recipe;
}

export const collectProgress = () => {
  const lines: string[] = [];
  return { lines, progress: (line: string) => void lines.push(line) };
};

/** Fast polling for tests. */
export const WAIT = { wait: true, timeoutMs: 10_000, pollIntervalMs: 20 };
