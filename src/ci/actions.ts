/**
 * The third-party actions berth's workflows use, pinned by full commit SHA (a tag can be
 * moved; a commit cannot), with the release the SHA was taken from as a comment. Update a
 * pin by replacing both together, after checking the SHA is the tag's commit on GitHub.
 */
export interface PinnedAction {
  /** owner/repo */
  repo: string;
  sha: string;
  version: string;
}

export const ACTIONS = {
  checkout: {
    repo: 'actions/checkout',
    sha: '11bd71901bbe5b1630ceea73d27597364c9af683',
    version: 'v4.2.2',
  },
  setupNode: {
    repo: 'actions/setup-node',
    sha: '39370e3970a6d050c480ffad4ff0ed4d3fdee5af',
    version: 'v4.1.0',
  },
  setupPython: {
    repo: 'actions/setup-python',
    sha: '0b93645e9fea7318ecaed2b359559ac225c90a2b',
    version: 'v5.3.0',
  },
  setupRuby: {
    repo: 'ruby/setup-ruby',
    sha: '4a9ddd6f338a97768b8006bf671dfbad383215f4',
    version: 'v1.207.0',
  },
  setupGo: {
    repo: 'actions/setup-go',
    sha: '41dfa10bad2bb2ae585af6ee5bb4d7d973ad74ed',
    version: 'v5.1.0',
  },
  configureAwsCredentials: {
    repo: 'aws-actions/configure-aws-credentials',
    sha: 'e3dd6a429d7300a6a4c196c26e071d42e0343502',
    version: 'v4.0.2',
  },
  cache: {
    repo: 'actions/cache',
    sha: '5a3ec84eff668545956fd18022155c47e93e2684',
    version: 'v4.2.3',
  },
  uploadArtifact: {
    repo: 'actions/upload-artifact',
    sha: 'ea165f8d65b6e75b540449e92b4886f43607fa02',
    version: 'v4.6.2',
  },
} as const satisfies Record<string, PinnedAction>;

/** `owner/repo@<sha>` — the `uses:` value. */
export function uses(action: PinnedAction): string {
  return `${action.repo}@${action.sha}`;
}

/** The version comment for a `uses:` value, when it is one of the pins. */
export function pinComment(value: string): string | undefined {
  return Object.values(ACTIONS).find((a) => uses(a) === value)?.version;
}

/** The service image for a throwaway registry in CI jobs (exact tag). */
export const REGISTRY_IMAGE = 'registry:2.8.3';
