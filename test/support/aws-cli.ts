/**
 * Drives berth's infra commands in-process, against the in-memory AWS fake: a Context whose
 * stdout/stderr are captured, a temp directory for outputs.env, and the fake injected
 * through the commands' `createClients` dependency. Nothing here can reach real AWS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import {
  contextOf,
  runAbortController,
  type CommandDeps,
  type Context,
  type GlobalOptions,
} from '../../src/cli/context.js';
import { createOutput } from '../../src/cli/output.js';
import { createReporter } from '../../src/cli/progress.js';
import { createAwsFake, type AwsFake } from '../../src/providers/aws/fake/aws-fake.js';
import {
  sampleConfig,
  seedPrerequisites,
  type SamplePrerequisites,
} from '../../src/providers/aws/fake/sample-stack.js';

export interface Captured {
  write(chunk: string | Uint8Array): boolean;
  text(): string;
  clear(): void;
}

export function captureStream(): Captured & NodeJS.WriteStream {
  let buffer = '';
  const stream = {
    isTTY: false,
    write(chunk: string | Uint8Array) {
      buffer += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    },
    text: () => buffer,
    clear: () => {
      buffer = '';
    },
  };
  return stream as unknown as Captured & NodeJS.WriteStream;
}

export interface AwsCliHarness {
  fake: AwsFake;
  prerequisites: SamplePrerequisites;
  loaded: LoadedConfig;
  dir: string;
  stdout: Captured;
  stderr: Captured;
  /** A fresh Context per command (as the CLI makes one per run). */
  ctx(globals?: Partial<GlobalOptions>): Context;
  deps: CommandDeps;
  /** Parses the last stdout JSON document and clears the captures. */
  json<T = Record<string, unknown>>(): T;
  setConfig(config: Config): void;
  cleanup(): Promise<void>;
}

export async function awsCliHarness(
  options: { config?: Config; json?: boolean } = {},
): Promise<AwsCliHarness> {
  const config = options.config ?? sampleConfig();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-aws-'));
  const fake = createAwsFake({ region: config.aws.region });
  const prerequisites = seedPrerequisites(fake, config);
  const stdout = captureStream();
  const stderr = captureStream();
  const harness: AwsCliHarness = {
    fake,
    prerequisites,
    loaded: { config, file: path.join(dir, 'berth.yaml'), dir },
    dir,
    stdout,
    stderr,
    deps: {
      createClients: () => fake.clients,
      env: {},
      now: () => new Date('2026-01-02T03:04:05.000Z'),
      confirm: () => Promise.reject(new Error('confirm called without a test override')),
    },
    ctx(globals = {}) {
      const g: GlobalOptions = {
        config: harness.loaded.file,
        json: options.json ?? true,
        ...globals,
      };
      const out = createOutput(g.json, stdout, stderr);
      // The CLI's own run signal (its listener bound), as createContext makes it.
      return contextOf(g, out, createReporter(out), runAbortController().signal, () =>
        Promise.resolve(harness.loaded),
      );
    },
    json<T>() {
      const lines = stdout.text().trim().split('\n').filter(Boolean);
      const last = lines[lines.length - 1];
      stdout.clear();
      stderr.clear();
      if (!last) throw new Error('no JSON on stdout');
      return JSON.parse(last) as T;
    },
    setConfig(next) {
      harness.loaded = { ...harness.loaded, config: next };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  return harness;
}
