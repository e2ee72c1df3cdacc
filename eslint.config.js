import neostandard from 'neostandard'

// Fastify's own lint style (neostandard), with its TypeScript rules
export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', 'bench/results/**', '.tap/**', 'coverage/**']
  }),
  {
    rules: {
      // `void promise;` marks a deliberate fire-and-forget whose failures are handled inside
      'no-void': ['error', { allowAsStatement: true }],
      // a TypeBox schema and its Static type share a name by design; tsc itself refuses real redeclarations
      '@typescript-eslint/no-redeclare': 'off'
    }
  }
]
