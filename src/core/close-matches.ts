/**
 * "Did you mean": the names a typo most likely meant. Shared by the `--database` check
 * (fleet members) and berth.yaml's unknown settings (the keys the schema allows there).
 */
import { distance } from 'fastest-levenshtein';

/**
 * Candidates within a few edits of `name`, closest first (at most `limit`): a typo's likely
 * intent. The bound grows with the name (a third of its length, at least 1, at most 4), so a
 * short name does not "match" unrelated ones; two neighbouring letters swapped (`fiel`,
 * `file`) count as one edit; a part of a name (`fintech`) matches the names holding it.
 * `closestOnly`: only those nearest of all (a setting's name: `DATABASE_PASWORD` means
 * DATABASE_PASSWORD, one edit away, not DATABASE_PORT, four).
 */
export function closeMatches(
  name: string,
  candidates: readonly string[],
  { limit = 3, closestOnly = false }: { limit?: number; closestOnly?: boolean } = {},
): string[] {
  const bound = Math.min(4, Math.max(1, Math.floor(name.length / 3)));
  const close = candidates
    .map((candidate) => ({
      candidate,
      d: isSwap(name, candidate) ? 1 : distance(name, candidate),
    }))
    .filter(({ candidate, d }) => d <= bound || (name.length >= 3 && candidate.includes(name)))
    .sort((a, b) => a.d - b.d || a.candidate.localeCompare(b.candidate));
  const nearest = close[0]?.d;
  return close
    .filter(({ d }) => !closestOnly || d === nearest)
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}

/** `b` is `a` with exactly two neighbouring characters swapped. */
function isSwap(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  let i = 0;
  while (a[i] === b[i]) i++;
  return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}
