/* Every reflect-metadata key the library writes. Decorators only write under these; readers build their caches from them. */

/** The message handlers a prototype binds itself (`@handlesMessage`). */
export const HANDLERS_KEY = 'pachinko:handlers'
/** The worker methods a prototype declares itself (`@worker`). */
export const WORKERS_KEY = 'pachinko:workers'
/** Constructor parameters injected by token (`@inject`). */
export const INJECT_KEY = 'pachinko:inject'
/** The channel event handlers a prototype binds itself (`@handlesEvent`). */
export const EVENTS_KEY = 'pachinko:events'
