// ESLint flat config: typescript-eslint's type-aware rules on the sources, tests, scripts and
// benches; formatting is Prettier's job (npm run format), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'docs/api/**', 'node_modules/**', 'test-artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // examples/ is outside tsconfig.json on purpose: the examples import 's2-engine' as a user does,
        // and scripts/check-package.mjs type-checks them against the packed tarball. Lint them with the
        // project's compiler options (they resolve 's2-engine' to dist/ through the package's own exports,
        // which `npm ci` builds through the prepare script).
        projectService: { allowDefaultProject: ['examples/*.ts'], defaultProject: 'tsconfig.json' },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // The bugs that matter in an async protocol engine: a promise nobody awaits or handles.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A caught value passed on unchanged (`catch (err) { reject(err) }`, a synchronous throw turned into
      // a rejected promise) is `unknown` by type but is whatever the callee threw; wrapping it would hide
      // the original error (and vitest's assertion errors). Rejecting with a literal or object is still an error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        performance: 'readonly',
        crypto: 'readonly',
        queueMicrotask: 'readonly',
        structuredClone: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        global: 'readonly',
        globalThis: 'readonly',
      },
    },
    // The same convention as the TypeScript files: a leading underscore marks a name kept on purpose
    // (a destructured field left out of a rest object, a callback parameter the signature requires).
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
);
