/** Task tables for `berth tasks list` and the `tasks stop` confirmation. */
import type { ListedTask, TaskListing } from '../../providers/provider.js';
import { table, type Output } from '../output.js';

export function shortList(names: readonly string[]): string {
  return names.length <= 3 ? names.join(',') : `${names.slice(0, 3).join(',')},… (${names.length})`;
}

export function renderTaskList(out: Output, listing: TaskListing, running: boolean): void {
  const where = listing.cluster ? ` on ${listing.cluster}` : '';
  if (listing.tasks.length === 0) {
    out.result(
      running
        ? `no running ${listing.cluster ? 'berth ' : ''}tasks${where}`
        : listing.cluster
          ? `no berth tasks${where} (ECS keeps stopped tasks for about an hour)`
          : 'no tasks yet',
    );
    return;
  }
  const ecs = listing.tasks.some((t) => t.ecsTaskId !== undefined);
  out.result(
    table(
      [
        'TASK',
        ...(ecs ? ['ECS TASK'] : []),
        'KIND',
        'STATUS',
        'EXIT',
        'DATABASES',
        ecs ? 'CREATED' : 'STARTED',
      ],
      listing.tasks.map((t) => [
        t.id,
        ...(ecs ? [t.ecsTaskId ?? '-'] : []),
        t.kind ?? '-',
        t.status,
        t.exitCode === null ? '-' : String(t.exitCode),
        ecs ? shortList(t.databases) : t.databases.join(','),
        (ecs ? t.createdAt : t.startedAt) ?? '-',
      ]),
    ),
  );
}

export function stopPreview(tasks: readonly ListedTask[]): string {
  return tasks
    .map(
      (t) =>
        `  ${t.id}${t.ecsTaskId ? `  ${t.ecsTaskId}` : ''}  ${t.kind ?? '-'}  ${t.status}  ${shortList(t.databases)}`,
    )
    .join('\n');
}
