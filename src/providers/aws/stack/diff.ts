/** Small pure helpers the resource modules build their plans from. */
import type { Tags } from '../api/types.js';
import type { FieldChange, JsonValue, PlanAction, ResourceKind, ResourcePlan } from './types.js';

/** Structural equality for JSON-like values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** A change when the values differ; `undefined` actual is shown as null. */
export function fieldChange(
  field: string,
  actual: JsonValue | undefined,
  desired: JsonValue | undefined,
  extra: { note?: string; immutable?: boolean } = {},
): FieldChange[] {
  const a = actual ?? null;
  const d = desired ?? null;
  if (jsonEqual(a, d)) return [];
  return [
    {
      field,
      actual: a,
      desired: d,
      ...(extra.note ? { note: extra.note } : {}),
      ...(extra.immutable ? { immutable: true } : {}),
    },
  ];
}

/** Desired tags that are missing or different. Extra tags on the resource are left alone. */
export function tagChanges(actual: Tags, desired: Tags): FieldChange[] {
  return Object.keys(desired)
    .sort()
    .flatMap((key) => fieldChange(`tags.${key}`, actual[key], desired[key]));
}

/** Only the tags that need (re)setting. */
export function tagsToSet(changes: readonly FieldChange[], desired: Tags): Tags {
  const out: Tags = {};
  for (const c of changes) {
    if (!c.field.startsWith('tags.')) continue;
    const key = c.field.slice('tags.'.length);
    const value = desired[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export interface Decision {
  exists: boolean;
  owned: boolean;
  adopt: boolean;
}

/** Turns a resource's field changes into its plan. */
export function decide(
  kind: ResourceKind,
  name: string,
  state: Decision,
  changes: FieldChange[],
): ResourcePlan {
  let action: PlanAction;
  if (!state.exists) action = 'create';
  else if (!state.owned) action = state.adopt ? 'adopt' : 'not-owned';
  else action = changes.length > 0 ? 'update' : 'no-change';
  // A new resource gets all its tags at creation: listing them would only be noise.
  const shown = action === 'create' ? changes.filter((c) => !c.field.startsWith('tags.')) : changes;
  return { kind, name, action, changes: shown };
}

export function sortedStrings(values: readonly string[]): string[] {
  return [...values].sort();
}

export function has(plan: ResourcePlan, field: string): boolean {
  return plan.changes.some((c) => c.field === field || c.field.startsWith(`${field}.`));
}
