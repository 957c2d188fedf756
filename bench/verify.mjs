// verify on N up-to-date tenants (default 50, BENCH_VERIFY_TENANTS), three ways, medians of 3:
// without the schema comparison (verify.compareSchema: false — the probe as it was before the
// fingerprint), with a reference tenant (the fingerprint read in the probe's own query), and
// with the default scratch reference (a database migrated from zero, read and dropped).
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { createProject, median } from './lib.mjs';

export async function run(log) {
  const n = Number(process.env.BENCH_VERIFY_TENANTS ?? 50);
  const tenants = Array.from({ length: n }, (_, i) => `tenant_${String(i).padStart(4, '0')}`);
  const project = await createProject(tenants, { fleet: { batchSize: 10, concurrency: 2 } });
  try {
    const migrated = await project.run(['migrate', '--all']);
    if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
    const base = parse(await readFile(project.configFile, 'utf8'));
    const variants = {
      noSchemaMs: { compareSchema: false },
      referenceTenantMs: { reference: tenants[0] },
      scratchReferenceMs: {},
    };
    const figures = { tenants: n };
    for (const [name, verify] of Object.entries(variants)) {
      await writeFile(project.configFile, stringify({ ...base, verify }));
      const times = [];
      for (let i = 0; i < 3; i++) {
        const r = await project.run(['verify', '--all']);
        if (r.code !== 0) throw new Error(`verify (${name}) failed: ${r.stdout}${r.stderr}`);
        times.push(r.ms);
      }
      figures[name] = { median: median(times), runs: times };
      log(`verify ${n} tenants, ${name}`, times.map((t) => t.toFixed(0)).join(' / '), 'ms');
    }
    return { verify: figures };
  } finally {
    await project.cleanup();
  }
}
