// Regenerates schema/berth.schema.json from the zod schema (run `npm run schema` after
// changing src/config/schema.ts; a unit test fails when the two disagree).
import { mkdir, writeFile } from 'node:fs/promises';
const { configJsonSchema } = await import('../dist/index.js');
await mkdir('schema', { recursive: true });
await writeFile('schema/berth.schema.json', `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
