/**
 * How a test or benchmark starts `lookout-edge` in a child process (node arguments before the command):
 * from the TypeScript sources through tsx, or as deployed, the compiled CLI (`npm run build` first). tsx
 * itself holds ~45 MB of the process's memory, so memory measurements use the build.
 */
export const FROM_SOURCE: readonly string[] = ['--import', 'tsx', 'src/cli/bin.ts'];
export const FROM_BUILD: readonly string[] = ['bin/lookout-edge.js'];
