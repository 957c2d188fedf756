#!/usr/bin/env node
// Thin launcher: the bundled CLI lives in dist/. Kept as plain JS so `npx berth` works
// without a TypeScript loader.
import '../dist/cli.js';
