/** The JSON Schema editors use for berth.yaml, generated from the zod schema (one source). */
import { z } from 'zod';
import { configSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://github.com/berth/berth/schema/berth.schema.json',
    title: 'berth.yaml',
  };
}
