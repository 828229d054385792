import { join } from 'node:path';

/** Architectures the component is built for: Node's names and Greengrass's. */
export const ARCHES = {
  x64: { greengrass: 'amd64', label: 'linux-x64' },
  arm64: { greengrass: 'aarch64', label: 'linux-arm64' },
} as const;
export type Arch = keyof typeof ARCHES;

export const isArch = (value: string): value is Arch => value === 'x64' || value === 'arm64';

export const COMPONENTS = {
  Inspector: 'com.lookout-edge.Inspector',
  ModelServer: 'com.lookout-edge.ModelServer',
} as const;
export const COMPONENT_NAMES: readonly string[] = Object.values(COMPONENTS);

/** The one archive every lookout-edge component ships; the nucleus unarchives it to `<decompressedPath>/lookout-edge/`. */
export const APP_ZIP = 'lookout-edge.zip';
export const APP_DIR = 'lookout-edge';

/** The gdk layout under the build folder. */
export const buildPaths = (outDir: string) => ({
  recipes: join(outDir, 'recipes'),
  artifacts: join(outDir, 'artifacts'),
  cache: join(outDir, 'cache'),
  recipe: (name: string) => join(outDir, 'recipes', `${name}.yaml`),
  artifactDir: (name: string, version: string) => join(outDir, 'artifacts', name, version),
  /** One archive per architecture: `<name>/<version>/linux-<arch>/lookout-edge.zip`, the same relative path as in S3. */
  appZip: (name: string, version: string, arch: Arch) => join(outDir, 'artifacts', name, version, ARCHES[arch].label, APP_ZIP),
});

/** `s3://<bucket>/<name>/<version>/linux-<arch>/lookout-edge.zip`. */
export function appArtifactUri(bucket: string, name: string, version: string, arch: Arch): string {
  return `s3://${bucket}/${name}/${version}/${ARCHES[arch].label}/${APP_ZIP}`;
}
