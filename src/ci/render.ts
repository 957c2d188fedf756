/**
 * Typed workflow → YAML text, with comments where a reader needs the why: a header, notes
 * placed before chosen keys, and the release next to every SHA-pinned action.
 */
import { Document, isMap, isScalar, visit } from 'yaml';
import { pinComment } from './actions.js';
import type { Workflow } from './workflow-types.js';

export interface KeyComment {
  /** Path to the key, e.g. ['jobs', 'test', 'if']. */
  path: (string | number)[];
  /** Comment text; several lines allowed. */
  text: string;
}

const asComment = (text: string) =>
  text
    .split('\n')
    .map((line) => (line ? ` ${line}` : ''))
    .join('\n');

export function renderWorkflow(
  workflow: Workflow,
  options: { header?: string; comments?: KeyComment[] } = {},
): string {
  const doc = new Document(workflow);
  if (options.header) doc.commentBefore = asComment(options.header);
  for (const { path, text } of options.comments ?? []) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (!isMap(parent)) throw new Error(`no mapping at ${path.slice(0, -1).join('.')}`);
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
    if (!pair || !isScalar(pair.key)) throw new Error(`no key ${path.join('.')}`);
    pair.key.commentBefore = asComment(text);
  }
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'uses' && isScalar(pair.value)) {
        const version = pinComment(String(pair.value.value));
        if (version) pair.value.comment = ` ${version}`;
      }
    },
  });
  return doc.toString({ lineWidth: 0, blockQuote: 'literal', singleQuote: true });
}
