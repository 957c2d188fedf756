import { describe, expect, it } from 'vitest';
import { closeMatches } from '../../src/core/close-matches.js';

describe('closeMatches', () => {
  it('counts two neighbouring letters swapped as one edit', () => {
    expect(closeMatches('fiel', ['file', 'query', 'database'])).toEqual(['file']);
    expect(closeMatches('amce', ['acme', 'acme_eu', 'globex'])).toEqual(['acme']);
    // Two swaps, or letters swapped apart, are more than one edit for a short name.
    expect(closeMatches('ifel', ['file'])).toEqual([]);
    expect(closeMatches('lief', ['file'])).toEqual([]);
  });

  it('suggests a setting for a misspelled key', () => {
    const keys = ['family', 'command', 'timeoutSeconds', 'environment'];
    expect(closeMatches('timeoutSecond', keys)).toEqual(['timeoutSeconds']);
    expect(closeMatches('colour', keys)).toEqual([]);
  });
});

describe('closeMatches closestOnly', () => {
  it('keeps only the nearest candidates', () => {
    const keys = ['DATABASE_PASSWORD', 'DATABASE_USER', 'DATABASE_HOST', 'DATABASE_PORT'];
    expect(closeMatches('DATABASE_PASWORD', keys)).toEqual(['DATABASE_PASSWORD', 'DATABASE_PORT']);
    expect(closeMatches('DATABASE_PASWORD', keys, { closestOnly: true })).toEqual([
      'DATABASE_PASSWORD',
    ]);
    expect(closeMatches('DATABASE_HOTS', keys, { closestOnly: true })).toEqual(['DATABASE_HOST']);
  });
});
