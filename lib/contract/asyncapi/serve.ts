import type { FastifyInstance } from 'fastify'
import { ERR_OPTION_INVALID } from '../../errors.js'
import type { AsyncApiDocument, AsyncApiOptions } from './document.js'

/** The `asyncapi` plugin option: where to serve the document, and what goes in its `info` and `servers`. */
export interface AsyncApiServeOptions extends AsyncApiOptions {
  /**
   * Path of the JSON document; the YAML one is the same path ending in `.yaml`.
   * @default '/asyncapi.json'
   */
  path?: string
}

/** What serving needs of the manager. */
interface DocumentSource {
  asyncapi (options: AsyncApiOptions): AsyncApiDocument
}

/**
 * Serves the document at `path` (JSON) and its `.yaml` twin. It is generated
 * on the first request, when every route has been declared, and kept.
 */
export function serveAsyncApi (app: FastifyInstance, source: DocumentSource, options: AsyncApiServeOptions): void {
  if (options === null || typeof options !== 'object') throw new ERR_OPTION_INVALID('asyncapi', 'must be an object such as { path: \'/asyncapi.json\', info: { title, version } }')
  const { path = '/asyncapi.json', ...documentOptions } = options
  if (typeof path !== 'string' || !/^\/\S*\.json$/.test(path)) throw new ERR_OPTION_INVALID('asyncapi.path', `must start with "/" and end in ".json", got ${String(path)}`)
  const yamlPath = path.slice(0, -'.json'.length) + '.yaml'
  let json: string | undefined
  let yaml: string | undefined
  const document = (): string => (json ??= JSON.stringify(source.asyncapi(documentOptions), null, 2))
  app.get(path, async (_request, reply) => await reply.type('application/json; charset=utf-8').send(document()))
  app.get(yamlPath, async (_request, reply) => {
    if (yaml === undefined) {
      const { stringify } = await import('yaml')
      yaml = stringify(JSON.parse(document()))
    }
    return await reply.type('application/yaml; charset=utf-8').send(yaml)
  })
}
