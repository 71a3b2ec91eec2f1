import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules', '.vite', 'dist', 'out', '.tooling', 'test-artifacts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Remote commands are argument vectors quoted by shared/shell-quote.ts; forbid the
      // shell-string APIs that invite "string soup".
      'no-restricted-imports': ['error', { paths: [{ name: 'node:child_process', importNames: ['exec', 'execSync'], message: 'Spawn an argv (spawn/execFile); never a shell string.' }] }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  {
    files: ['renderer/**/*.{ts,tsx}', 'shared/**/*.ts'],
    rules: {
      // The renderer is sandboxed and shared/ also runs there: no Node, no Electron.
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'electron', 'ssh2', '../services/*', '../../services/*'], message: 'renderer/ and shared/ run in the browser sandbox.' }] }],
    },
  },
  {
    files: ['services/**/*.ts', 'cli/**/*.ts', 'agent/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "ImportDeclaration[source.value='electron']", message: 'Logic modules must not import electron; wire it in electron/main.ts.' }],
    },
  },
);
