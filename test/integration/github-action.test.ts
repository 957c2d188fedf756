/**
 * action.yml and the script behind it (scripts/github-action.sh): a pinned berth, its exit
 * code as the step's result and output, one line in the job summary, inputs never
 * interpolated into code. The script runs for real, with the built CLI standing in for npx.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_VERSION } from '../../src/core/package-info.js';
import { BERTH, ROOT } from '../support/project.js';

interface ActionFile {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: { run: string; env: Record<string, string> }[] };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-action-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function step(env: Record<string, string>) {
  const summary = path.join(dir, `summary-${Math.random()}`);
  const output = path.join(dir, `output-${Math.random()}`);
  await writeFile(summary, '');
  await writeFile(output, '');
  const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      'bash',
      [path.join(ROOT, 'scripts/github-action.sh')],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          NO_COLOR: '1',
          GITHUB_STEP_SUMMARY: summary,
          GITHUB_OUTPUT: output,
          BERTH_COMMAND: `${process.execPath} ${BERTH}`,
          ...env,
        },
      },
      (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
    );
  });
  return {
    ...result,
    summary: await readFile(summary, 'utf8'),
    output: await readFile(output, 'utf8'),
  };
}

describe('action.yml', () => {
  it('is a composite action whose default version is this exact release', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as ActionFile;
    expect(action.runs.using).toBe('composite');
    expect(action.inputs.version?.default).toBe(PACKAGE_VERSION);
    expect(action.inputs.args?.required).toBe(true);
    expect(action.outputs['exit-code']?.value).toBe('${{ steps.berth.outputs.exit-code }}');
  });

  it('passes inputs through the environment, never into the script text', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as ActionFile;
    for (const s of action.runs.steps) {
      expect(s.run).not.toContain('${{');
      expect(s.env.BERTH_ARGS).toBe('${{ inputs.args }}');
    }
  });
});

describe('scripts/github-action.sh', () => {
  it('runs berth, records exit 0 in the output and the summary', async () => {
    const r = await step({ BERTH_VERSION: PACKAGE_VERSION, BERTH_ARGS: 'completion bash' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -o bashdefault -o default -F _berth berth');
    expect(r.output).toBe('exit-code=0\n');
    expect(r.summary).toBe(
      `✅ \`berth completion bash\` (berth-cli ${PACKAGE_VERSION}): exit 0, success\n\n`,
    );
  });

  it("fails the step with berth's exit code, and says so in the summary and an annotation", async () => {
    const r = await step({ BERTH_VERSION: PACKAGE_VERSION, BERTH_ARGS: 'completion powershell' });
    expect(r.code).toBe(2);
    expect(r.output).toBe('exit-code=2\n');
    expect(r.summary).toContain('❌ `berth completion powershell`');
    expect(r.summary).toContain('exit 2, usage error');
    expect(r.stdout).toContain('::error title=berth::berth completion powershell exited 2');
  });

  it('treats the arguments as words: no globbing, no shell evaluation', async () => {
    const marker = path.join(dir, 'pwned');
    const r = await step({
      BERTH_VERSION: PACKAGE_VERSION,
      BERTH_ARGS: `completion * $(touch ${marker}) ;touch ${marker}`,
    });
    expect(r.code).toBe(2); // berth saw the literal words and rejected them
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each(['latest', '^0.1.0', '0.1', ''])('refuses the unpinned version %j', async (version) => {
    const r = await step({ BERTH_VERSION: version, BERTH_ARGS: 'completion bash' });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('::error title=berth::version must be an exact version');
    expect(r.output).toBe('');
  });
});
