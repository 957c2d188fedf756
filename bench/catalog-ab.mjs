// What verify's catalog query costs a fresh backend, this build's against another revision's
// (bench/README.md, "The catalog query"). Not part of `npm run bench`: an A/B for a change to
// CATALOG_SQL, on one migrated example tenant of an embedded server.
//
//   node bench/catalog-ab.mjs [REV=HEAD~1] [ROUNDS=4] [QUERIES=15]
//
// REV's query is the copy in examples/startupwebapp/src/probe.ts at that revision (berth's tests
// keep it identical to CATALOG_SQL). Each query runs on a new connection, as a probe reads each
// tenant once; the time is the query's alone (connect and end excluded). The two alternate,
// QUERIES times per round; one JSON line per round with each one's median in ms, after a check
// that both read the same schema when they should (the entry counts are printed).
import { execFileSync } from 'node:child_process';
import { CATALOG_SQL } from '../dist/index.js';
import { ROOT, createProject, median } from './lib.mjs';

const [rev = 'HEAD~1', rounds = '4', queries = '15'] = process.argv.slice(2);
const source = execFileSync('git', ['show', `${rev}:examples/startupwebapp/src/probe.ts`], {
  cwd: ROOT,
  encoding: 'utf8',
});
const before = /const CATALOG_SQL = `([^`]*)`;/.exec(source)?.[1];
if (!before) throw new Error(`no CATALOG_SQL in examples/startupwebapp/src/probe.ts at ${rev}`);
const variants = { [rev]: before, build: CATALOG_SQL };

const project = await createProject(['tenant_a']);
try {
  const migrated = await project.run(['migrate', '--all']);
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  const entries = {};
  for (const [name, sql] of Object.entries(variants)) {
    const client = await project.client('tenant_a');
    entries[name] = (await client.query(sql, ['public'])).rows[0].schema.length;
    await client.end();
  }
  console.log(JSON.stringify({ entries }));
  const time = async (sql) => {
    const client = await project.client('tenant_a');
    const start = process.hrtime.bigint();
    await client.query(sql, ['public']);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    await client.end();
    return ms;
  };
  for (let round = 0; round < Number(rounds); round++) {
    const times = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    // Alternated within the round, the order reversed every other round.
    const order = Object.entries(variants);
    if (round % 2) order.reverse();
    for (let i = 0; i < Number(queries); i++)
      for (const [name, sql] of order) times[name].push(await time(sql));
    console.log(
      JSON.stringify({
        round,
        medianMs: Object.fromEntries(
          Object.entries(times).map(([name, ms]) => [name, Number(median(ms).toFixed(1))]),
        ),
      }),
    );
  }
} finally {
  await project.cleanup();
}
