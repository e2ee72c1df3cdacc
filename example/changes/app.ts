import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import { Type, type Static } from 'typebox'
import pachinko, { changeFeed, type PachinkoOptions } from '../../lib/index.js'
import { Store } from './store.js'

/** How to build the app: where the SQLite file is, and the plugin's and Fastify's options. */
export interface ChangesAppOptions {
  dbFile: string
  pachinko?: PachinkoOptions
  server?: FastifyServerOptions
}

const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) })
const AuthorBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
const BookBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 200 }),
  authorId: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])
}, { additionalProperties: false })
const Author = Type.Object({ id: Type.Integer(), name: Type.String() })
const Book = Type.Object({ id: Type.Integer(), title: Type.String(), authorId: Type.Union([Type.Integer(), Type.Null()]) })

type IdParams = Static<typeof Id>

/**
 * A REST API over SQLite whose writes reach every open page live: the
 * `/api` scope registers the change feed (`/api/ws`), and each write route
 * names its model. The page at `/` lists both models and updates as they change.
 */
export async function buildChangesApp (options: ChangesAppOptions): Promise<FastifyInstance> {
  const app = Fastify(options.server)
  const store = new Store(options.dbFile)
  app.addHook('onClose', async () => store.close())
  await app.register(pachinko, options.pachinko ?? {})
  const page = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8')
  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(page))

  await app.register(async (api) => {
    await api.register(changeFeed, { path: '/ws' })
    const missing = { statusCode: 404, error: 'Not Found', message: 'no such record' }

    api.get('/authors', { schema: { response: { 200: Type.Array(Author) } } }, async () => store.authors())
    api.post<{ Body: Static<typeof AuthorBody> }>('/authors', { config: { model: 'author' }, schema: { body: AuthorBody, response: { 201: Author } } },
      async (request, reply) => await reply.code(201).send(store.addAuthor(request.body.name)))
    api.patch<{ Params: IdParams, Body: Static<typeof AuthorBody> }>('/authors/:id', { config: { model: 'author' }, schema: { params: Id, body: AuthorBody, response: { 200: Author } } },
      async (request, reply) => store.renameAuthor(request.params.id, request.body.name) ?? await reply.code(404).send(missing))
    api.delete<{ Params: IdParams }>('/authors/:id', { config: { model: 'author' }, schema: { params: Id } },
      async (request, reply) => await (store.removeAuthor(request.params.id) ? reply.code(204).send() : reply.code(404).send(missing)))

    api.get('/books', { schema: { response: { 200: Type.Array(Book) } } }, async () => store.books())
    api.post<{ Body: Static<typeof BookBody> }>('/books', { config: { model: 'book' }, schema: { body: BookBody, response: { 201: Book } } }, async (request, reply) => {
      const { title, authorId } = request.body
      if (authorId !== null && store.author(authorId) === undefined) return await reply.code(422).send({ statusCode: 422, error: 'Unprocessable Entity', message: 'no such author' })
      return await reply.code(201).send(store.addBook(title, authorId))
    })
    api.put<{ Params: IdParams, Body: Static<typeof BookBody> }>('/books/:id', { config: { model: 'book' }, schema: { params: Id, body: BookBody, response: { 200: Book } } }, async (request, reply) => {
      const { title, authorId } = request.body
      if (authorId !== null && store.author(authorId) === undefined) return await reply.code(422).send({ statusCode: 422, error: 'Unprocessable Entity', message: 'no such author' })
      return store.updateBook(request.params.id, title, authorId) ?? await reply.code(404).send(missing)
    })
    api.delete<{ Params: IdParams }>('/books/:id', { config: { model: 'book' }, schema: { params: Id } },
      async (request, reply) => await (store.removeBook(request.params.id) ? reply.code(204).send() : reply.code(404).send(missing)))
  }, { prefix: '/api' })
  return app
}
