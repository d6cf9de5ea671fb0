// ESLint (flat config) for the TypeScript of the package, its tests, examples and the
// benchmark driver: `npm run lint`. Type-aware rules use tsconfig.test.json, which covers
// ts/src, test and examples.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // the HTML report's page script (ts/client) has its own project: browser code
      parserOptions: { project: ['./tsconfig.test.json', './ts/client/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.objectContaining) are typed any:
    // assigning or returning them is how they are used
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // the callbacks test/html.test.ts hands to page.evaluate() run in the browser; the
    // test project has no DOM types, so what they touch is unresolved there
    files: ['test/html.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // functions the screenshot script hands to page.evaluate() run in the browser
    files: ['ts/scripts/report-screenshot.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
