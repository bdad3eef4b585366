// ESLint 9 flat config: typescript-eslint's type-aware recommended rules on every TypeScript file
// (server, client, tests, bench, migrations). Formatting is prettier's job (`prettier --check .`).
// `npm run lint` runs this, prettier and the full type-check; see README "Development".
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'public/**',
      'public-demo/build/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      'tests/fixtures/**',
      '.ci/out/**',
    ],
  },
  {
    files: ['**/*.ts'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Each file is checked with the tsconfig.json that owns it: client/tsconfig.json for client/, the root one elsewhere.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Off: an `async` function without `await` is used on purpose where an interface asks for a
      // promise (a repository, a limiter, a lock with a local fallback): `async` turns a synchronous
      // throw into a rejection, which callers handle as they handle every other failure.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a parameter or binding kept for its position or to leave it out of a rest object.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      // Off: the control characters in our regular expressions are the point of them (text and
      // names are rejected when they contain any), never a typo.
      'no-control-regex': 'off',
    },
  },
  {
    // Plain JavaScript (jest reporter, CI summary, this file): syntax rules only, no type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [eslint.configs.recommended],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' },
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
);
