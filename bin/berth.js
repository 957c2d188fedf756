#!/usr/bin/env -S node --max-semi-space-size=2
// Thin launcher: the bundled CLI lives in dist/. Kept as plain JS so `npx berth` works
// without a TypeScript loader.
//
// --max-semi-space-size=2 caps V8's young generation at 2 × 2 MB. A fleet run allocates a
// little for every database (a connection, a few queries, a result line) and keeps almost
// none of it, but over a long run V8 grows the young generation to 2 × 16 MB anyway: at
// 1,000 tenants that was a third of berth's peak RSS while its live heap stayed at ~15 MB.
// `env -S` splits the flags (GNU coreutils, macOS, BSD; npm's Windows shims read it too).
// BusyBox's env (Alpine) has no -S: run `node bin/berth.js` there, which works the same
// with V8's default sizing.
import '../dist/cli.js';
