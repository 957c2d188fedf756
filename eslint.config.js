// Type-aware lint: the rules that catch real bugs in async CLI code (floating promises,
// unsafe any) plus consistent type imports so `verbatimModuleSyntax` stays happy.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      '.dependency-cruiser.cjs',
      'dist/',
      'node_modules/',
      '.berth/',
      'coverage/',
      'examples/*/dist/',
      'bin/',
      '**/*.mjs',
      // Compiled against the packed tarball by scripts/pack-smoke.sh, outside this project.
      'scripts/pack-smoke/',
      // Apps of other migration tools (knex's CommonJS), run by the tools under test.
      'test/fixtures/tools/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: { allowDefaultProject: ['examples/startupwebapp/vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    // One place switches on the provider's name (DESIGN.md): everything else asks for a
    // capability (provider.stack, registry.required, backend.tasksTakeLock), never the name.
    files: ['src/**/*.ts'],
    ignores: ['src/providers/open-provider.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'BinaryExpression[operator=/^[!=]==?$/] > Literal[value=/^(local|aws)$/]',
          message:
            "Do not compare a provider's name outside src/providers/open-provider.ts; ask the Provider for a capability.",
        },
        {
          selector: 'SwitchCase > Literal[value=/^(local|aws)$/]',
          message:
            "Do not switch on a provider's name outside src/providers/open-provider.ts; ask the Provider for a capability.",
        },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
