// Lint: typescript-eslint type-checked rules plus which third-party packages each folder of src/ may
// import (the layers between folders are checked by dependency-cruiser, see .dependency-cruiser.cjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (paths, message) => ({
  'no-restricted-imports': ['error', { paths: paths.map((name) => ({ name, message })) }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js', '.dependency-cruiser.cjs', 'dynamic-inventories/**/*.js', 'test/fixtures/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'warn' },
  },
  {
    files: ['src/packet/**/*.ts'],
    rules: restrict(['raw-socket', 'pcap', 'prom-client', 'express', 'node:fs', 'node:net', 'node:dgram'], 'packet/ is pure codecs'),
  },
  {
    files: ['src/probes/**/*.ts', 'src/config/**/*.ts', 'src/scheduler/**/*.ts', 'src/workers/**/*.ts'],
    rules: restrict(['raw-socket', 'pcap', 'prom-client', 'express'], 'native I/O lives in src/net/, metrics in src/metrics/'),
  },
  {
    files: ['src/checks/**/*.ts'],
    rules: restrict(['raw-socket', 'pcap', 'prom-client', 'express'], 'checks return data: metrics in src/metrics/, packet I/O through CheckDeps.hostIo'),
  },
  {
    files: ['src/net/**/*.ts'],
    rules: restrict(['prom-client', 'express'], 'net/ does packet I/O only'),
  },
  {
    files: ['src/metrics/**/*.ts'],
    rules: restrict(['raw-socket', 'pcap', 'express'], 'metrics/ only maps results to prom-client'),
  },
);
