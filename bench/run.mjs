// npm run bench: start-up, migrate on fresh and up-to-date fleets, written to
// bench/results/latest.json (figures are medians of several runs). Pass section names to run
// only some: `node bench/run.mjs startup migrate3`.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, createProject, dropDatabases, median, runBerth } from './lib.mjs';

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const results = {
  machine: {
    node: process.version,
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  },
  date: new Date().toISOString(),
  figures: {},
};
const log = (...a) => console.error('[bench]', ...a);

if (want('startup')) {
  const times = [];
  await runBerth(['--version']); // warm the file cache
  for (let i = 0; i < 15; i++) times.push((await runBerth(['--version'])).ms);
  results.figures.startupVersionMs = { median: median(times), runs: times.length };
  log('berth --version', median(times).toFixed(1), 'ms');
}

if (want('migrate3')) {
  const tenants = ['startupwebapp_prod', 'healthtech_experiment', 'fintech_experiment'];
  const project = await createProject(tenants);
  try {
    await project.run(['migrate', '--all']); // starts the server once
    const fresh = [];
    const noop = [];
    for (let i = 0; i < 5; i++) {
      await dropDatabases(project, tenants);
      const r = await project.run(['migrate', '--all']);
      if (r.code !== 0) throw new Error(`migrate failed: ${r.stderr}`);
      fresh.push(r.ms);
      const n = await project.run(['migrate', '--all']);
      if (n.code !== 0) throw new Error('no-op migrate failed');
      noop.push(n.ms);
    }
    results.figures.migrate3FreshMs = { median: median(fresh), runs: fresh.length };
    results.figures.migrate3UpToDateMs = { median: median(noop), runs: noop.length };
    log(
      'migrate --all, 3 fresh:',
      median(fresh).toFixed(0),
      'ms; up to date:',
      median(noop).toFixed(0),
      'ms',
    );
  } finally {
    await project.cleanup();
  }
}

// awsFleetSim: 1,000 simulated tenants on the fake with AWS's latency and quotas (aws-fleet-sim.mjs).
for (const [section, file] of [
  ['fleet', 'fleet'],
  ['django', 'django'],
  ['aws', 'aws'],
  ['awsFleetSim', 'aws-fleet-sim'],
  ['verify', 'verify'],
  ['supervisor', 'supervisor'],
]) {
  if (!want(section)) continue;
  const mod = await import(`./${file}.mjs`).catch((e) =>
    e.code === 'ERR_MODULE_NOT_FOUND' ? undefined : Promise.reject(e),
  );
  if (mod) Object.assign(results.figures, await mod.run(log));
}

const out = path.join(ROOT, 'bench/results/latest.json');
await mkdir(path.dirname(out), { recursive: true });
if (only.length > 0) {
  // A partial run updates its own figures and keeps the others.
  const previous = await readFile(out, 'utf8').then(JSON.parse, () => ({ figures: {} }));
  results.figures = { ...previous.figures, ...results.figures };
}
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
log('wrote', path.relative(ROOT, out));
