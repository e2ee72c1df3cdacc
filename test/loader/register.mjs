import { register } from 'node:module'

// After tap's own loaders (ts-node among them), so these hooks run first.
register('./transpile-cache.mjs', import.meta.url)
