/**
 * The dependency graph: `up` walks it in order, `down` in reverse. Kahn's algorithm, stable
 * (ties keep declaration order), so the order is deterministic and matches the seed's steps.
 */
import { BerthError } from '../../../core/errors.js';

export interface GraphNode<K extends string = string> {
  kind: K;
  dependsOn: readonly K[];
}

export function topologicalOrder<N extends GraphNode>(nodes: readonly N[]): N[] {
  const byKind = new Map(nodes.map((n) => [n.kind, n]));
  for (const n of nodes) {
    for (const dep of n.dependsOn) {
      if (!byKind.has(dep))
        throw new BerthError('INTERNAL', `resource ${n.kind} depends on unknown resource ${dep}`);
    }
  }
  const done = new Set<string>();
  const order: N[] = [];
  while (order.length < nodes.length) {
    const next = nodes.find((n) => !done.has(n.kind) && n.dependsOn.every((d) => done.has(d)));
    if (!next) {
      const left = nodes.filter((n) => !done.has(n.kind)).map((n) => n.kind);
      throw new BerthError('INTERNAL', `dependency cycle among resources: ${left.join(', ')}`);
    }
    done.add(next.kind);
    order.push(next);
  }
  return order;
}

export function reverseTopologicalOrder<N extends GraphNode>(nodes: readonly N[]): N[] {
  return topologicalOrder(nodes).reverse();
}
