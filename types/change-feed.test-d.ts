import Fastify from 'fastify'
import { expectAssignable, expectError, expectType } from 'tsd'
import pachinko, { changeFeed, type ChangeEvent, type ChangeFeedOptions } from '../dist/lib/index.js'

const app = Fastify()
await app.register(pachinko)
await app.register(async (api) => {
  await api.register(changeFeed, {
    path: '/ws',
    methods: ['POST', 'DELETE'],
    topicAll: 'everything',
    authorizeTopic: async (request, topic) => {
      expectType<string>(topic)
      return request.headers.authorization !== undefined
    },
    filter: (request, event) => {
      expectType<string>(event.model)
      expectType<string | number | null>(event.id)
      return request.headers['x-tenant'] === undefined ? false : { ...event, payload: null }
    }
  })
  api.post('/authors', { config: { model: 'author' } }, async () => ({ id: 1 }))
  api.put('/shelves/:shelf', { config: { model: 'shelf', id: 'shelf' } }, async () => ({}))
  api.post('/tags', { config: { model: 'tag', id: (_request, payload) => (payload as { slug: string }).slug } }, async () => ({}))
  expectError(api.post('/x', { config: { model: 3 } }, async () => ({})))
  expectError(api.post('/x', { config: { model: 'x', id: 4 } }, async () => ({})))
})

expectError(app.register(changeFeed, { methods: ['GET'] }))
expectError(app.register(changeFeed, { filter: async () => false }))
expectError(app.register(changeFeed, { path: 3 }))
expectAssignable<ChangeFeedOptions>({})

expectType<Promise<void>>(app.ws.publishChange({ model: 'author', method: 'PATCH', id: 7, payload: { id: 7 } }))
expectError(app.ws.publishChange({ model: 'author' }))
expectError(app.ws.publishChange({ model: 'author', method: 'POST', id: {} }))

declare const event: ChangeEvent<{ name: string }>
expectType<number>(event.ts)
expectType<boolean>(event.many)
expectType<{ name: string }>(event.payload)
