import { randomBytes } from 'node:crypto';

/** Short, sortable and unique enough for one machine: `migrate-20261125T183301-3f9a1c`. */
export function newTaskId(kind: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return `${kind}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;
