// Setup file of every project (vitest.config.ts): what a test file made with tempDir() goes
// when the file ends, passed or failed.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dir.js';

afterAll(removeTempDirs);
