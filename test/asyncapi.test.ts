import 'reflect-metadata'
import { Parser } from '@asyncapi/parser'
import { fork } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { Type, type Static } from 'typebox'
import { parse as parseYaml } from 'yaml'
import { buildChatApp } from '../example/chat/app.js'
import { buildReferenceApp } from '../example/reference/app.js'
import { WebSocketResource, handlesMessage, message } from '../lib/index.js'
import { main } from '../lib/contract/asyncapi/cli-main.js'
import { build } from './helpers/build.js'

/*
 * Every generated document goes through the official AsyncAPI parser and must
 * have no error diagnostics; its channels and messages must match the routes
 * and tags one for one.
 */

type Json = Record<string, any>
const parser = new Parser()

/** Parses a document (JSON or YAML text) and fails the test on any error-severity diagnostic. */
async function parses (t: Test, document: unknown): Promise<void> {
  const text = typeof document === 'string' ? document : JSON.stringify(document)
  const { diagnostics } = await parser.parse(text)
  const errors = diagnostics.filter((d) => d.severity === 0)
  t.same(errors.map((d) => `${d.path.join('/')}: ${d.message}`), [], 'the official parser finds no error')
}

/** tag → message key of a channel, by operation action. */
function tagsOf (document: Json, channel: string, action: 'receive' | 'send'): string[] {
  const tags: string[] = []
  for (const operation of Object.values(document.operations) as Json[]) {
    if (operation.channel.$ref !== `#/channels/${channel}` || operation.action !== action) continue
    for (const ref of operation.messages) tags.push(resolve(document, ref.$ref).name)
  }
  return tags.sort()
}

function resolve (document: Json, ref: string): Json {
  return ref.slice(2).split('/').reduce((node: Json, key) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], document)
}

t.test('documents the chat example: one channel, its tags in both directions, the reply of sendMessage', async (t) => {
  const app = await buildChatApp()
  t.teardown(() => app.close())
  const document = app.ws.asyncapi({ info: { title: 'Chat', version: '1.0.0' }, servers: { local: { host: 'localhost:3000', protocol: 'ws' } } }) as Json
  await parses(t, document)
  t.equal(document.asyncapi, '3.0.0')
  t.same(Object.keys(document.channels), ['chat.room'], 'one channel per route, named by the route name')
  const channel = document.channels['chat.room']
  t.equal(channel.address, '/ws/chat/{room}')
  t.same(Object.keys(channel.parameters), ['room'])
  t.same(tagsOf(document, 'chat.room', 'receive'), ['sendMessage', 'startTyping', 'stopTyping'])
  t.same(tagsOf(document, 'chat.room', 'send'), ['error', 'newMessage', 'presence', 'systemMessage', 'userJoined', 'userLeft', 'userTyping'])
  const send = document.operations['chat.room.receive.sendMessage']
  t.same(send.messages, [{ $ref: '#/channels/chat.room/messages/sendMessage' }])
  t.same(send.reply.messages, [{ $ref: '#/channels/chat.room/messages/sendMessage.reply' }])
  t.match(channel.messages['sendMessage.reply'].payload, {
    properties: { type: { const: 'reply' }, ref: { type: ['string', 'number'] }, payload: { properties: { user: { type: 'string' }, text: { type: 'string' } } } },
    required: ['type', 'ref']
  })
  t.match(channel.messages.sendMessage.payload.properties, { ref: { type: ['string', 'number'] }, payload: { properties: { text: { maxLength: 2000 } } } }, 'an incoming message may carry a ref')
  t.notOk(document.operations['chat.room.receive.startTyping'].reply, 'no reply schema, no reply in the document')
})

t.test('documents the reference example: nested routes under the router prefix, each a channel', async (t) => {
  const app = await buildReferenceApp({ digestMs: 60_000 })
  t.teardown(() => app.close())
  const document = app.ws.asyncapi() as Json
  await parses(t, document)
  t.same(Object.values(document.channels).map((c) => (c as Json).address), ['/api/v1/projects/{projectId}', '/api/v1/projects/{projectId}/tasks'])
  t.same(Object.keys(document.channels), ['project', 'project.tasks'])
  t.same(tagsOf(document, 'project', 'receive'), ['stats'], 'a convention handler without a schema is still documented')
  t.same(tagsOf(document, 'project.tasks', 'receive'), ['addTask', 'completeTask', 'listTasks'])
  t.same(tagsOf(document, 'project.tasks', 'send'), ['digest', 'error', 'memberJoined', 'taskAdded', 'taskCompleted', 'tasks'])
  t.ok(document.operations['project.tasks.receive.addTask'].reply, 'addTask declares its reply')
  t.same(document.info, { title: 'WebSocket API', version: '1.0.0' })
})

const TreeNode = Type.Cyclic({ TreeNode: Type.Object({ id: Type.String(), children: Type.Array(Type.Ref('TreeNode')) }) }, 'TreeNode')
const Put = message('put', TreeNode)
const Echo = message('echo', { text: Type.String() })

class Tree extends WebSocketResource<{ id: string }, Record<string, unknown>, typeof TreeEmits> {
  static schema = Type.Union([Put, Echo])
  static emits = TreeEmits()

  /* c8 ignore start -- TypeScript's __decorate helper has branches that map onto the decorated method's line */
  @handlesMessage('put', Put, { reply: TreeNode })
  put (msg: Static<typeof Put>) {
    /* c8 ignore stop */
    return msg.payload
  }

  onEcho () {}
}
// another definition named TreeNode, and schemas with $defs and definitions of their own
const OtherNode = Type.Cyclic({ TreeNode: Type.Object({ label: Type.String(), next: Type.Optional(Type.Ref('TreeNode')) }) }, 'TreeNode')
const WithDefs = { type: 'object', $defs: { Point: { type: 'object', properties: { x: { type: 'number' } } } }, properties: { at: { $ref: '#/$defs/Point' }, tree: { $ref: '#/components/schemas/TreeNode' } } }
const WithDefinitions = { type: 'object', definitions: { Size: { type: 'integer' } }, properties: { size: { $ref: '#/definitions/Size' } } }
class Shapes extends WebSocketResource {
  static schema = Type.Union([message('other', OtherNode), message('point', WithDefs as never), message('size', WithDefinitions as never), Type.Object({ type: Type.Literal('own'), ref: Type.Integer() })])
  onOwn () {}
  onOther () {}
  onPoint () {}
  onSize () {}
  /* c8 ignore start -- TypeScript's __decorate helper has branches that map onto the decorated method's line */
  @handlesMessage('count', { reply: Type.Integer() })
  count () {
    /* c8 ignore stop */
    return 1
  }
}

function TreeEmits () {
  return Type.Union([message('tree', TreeNode), message('echo', { text: Type.String(), at: Type.Number() })])
}

t.test('documents cyclic schemas, subprotocols, replies, query and headers of a test app, and channels added by another front', async (t) => {
  const app = await build(t)
  app.addWebSocketRoute('/trees/:id(^\\d+)/:part?', Tree, {
    subprotocols: ['tree.v2', 'tree.v1'],
    schema: {
      querystring: Type.Object({ token: Type.String() }),
      headers: { type: 'object', properties: { 'x-team': { type: 'string' } }, required: ['x-team'] },
      params: { type: 'object', properties: { id: { type: 'string', description: 'The tree id.' }, part: { type: 'string', enum: ['left', 'right'] } } }
    }
  })
  app.addWebSocketRoute('/factory', () => new Tree())
  app.addWebSocketRoute('/files/*', Tree, { subprotocols: ['files.v1'] })
  app.addWebSocketRoute('/', Shapes)
  app.ws.contract.addChannels(() => [{
    id: 'hub room',
    address: '/socket/{topic}',
    messages: [{ tag: 'phx_join', action: 'receive', payload: { type: 'array' } }, { tag: 'phx_reply', action: 'send', payload: { type: 'array' } }]
  }])
  const document = app.ws.asyncapi({ id: 'urn:example:trees', info: { title: 'Trees', version: '2.0.0', description: 'test' } }) as Json
  await parses(t, document)
  t.same(Object.keys(document.channels), ['trees_id_part', 'factory', 'files_wildcard', 'root', 'hub_room'])
  const trees = document.channels.trees_id_part
  t.equal(trees.address, '/trees/{id}/{part}')
  t.match(trees.parameters, { id: { description: 'The tree id.' }, part: { description: /optional/, enum: ['left', 'right'] } })
  t.equal(document.channels.files_wildcard.address, '/files/{wildcard}')
  t.same(Object.keys(document.channels.files_wildcard.parameters), ['wildcard'])
  t.same(trees['x-subprotocols'], ['tree.v2', 'tree.v1'])
  t.match(trees.description, /Subprotocols: tree\.v2, tree\.v1/)
  t.match(trees.bindings.ws, {
    method: 'GET',
    query: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] },
    headers: { properties: { 'x-team': {}, 'sec-websocket-protocol': { description: /tree\.v2, tree\.v1/ } }, required: ['x-team', 'sec-websocket-protocol'] }
  })
  t.same(Object.keys(trees.messages), ['put', 'put.reply', 'echo', 'tree', 'echo_2', 'error'], 'a tag in both directions gets two messages')
  t.same(trees.messages.put.payload.properties.payload, { $ref: '#/components/schemas/TreeNode' }, 'a Type.Cyclic $ref points into components')
  t.same(document.components.schemas.TreeNode.properties.children.items, { $ref: '#/components/schemas/TreeNode' })
  t.same(Object.keys(document.components.schemas), ['TreeNode', 'TreeNode_2', 'Point', 'Size'], 'the same definition is hoisted once, another of the same name apart')
  const shapes = document.channels.root.messages
  t.same(shapes.other.payload.properties.payload, { $ref: '#/components/schemas/TreeNode_2' })
  t.same(document.components.schemas.TreeNode_2.properties.next, { $ref: '#/components/schemas/TreeNode_2' })
  t.same(shapes.point.payload.properties.payload.properties, { at: { $ref: '#/components/schemas/Point' }, tree: { $ref: '#/components/schemas/TreeNode' } })
  t.same(shapes.size.payload.properties.payload.properties.size, { $ref: '#/components/schemas/Size' })
  t.same(shapes['count.reply'].payload.properties.payload, { type: 'integer' }, 'a reply schema without a message schema')
  t.same(shapes.own.payload.properties.ref, { type: 'integer' }, 'a schema\'s own ref field is kept')
  t.same(document.channels.files_wildcard.bindings.ws.headers.required, ['sec-websocket-protocol'])
  t.same(document.channels.factory.messages.error.name, 'error', 'a factory route has a channel, with the messages known without its class')
  t.match(document.channels.factory.description, /factory/)
  t.same(tagsOf(document, 'hub_room', 'receive'), ['phx_join'])
  t.equal(document.id, 'urn:example:trees')
})

t.test('serves the document as JSON and YAML once the app is ready', async (t) => {
  const app = await build(t, { asyncapi: { path: '/docs/asyncapi.json', info: { title: 'Served', version: '3.1.4' } } })
  app.addWebSocketRoute('/ws/chat/:room', Tree, { name: 'chat' })
  const json = await app.inject('/docs/asyncapi.json')
  t.equal(json.statusCode, 200)
  t.match(json.headers['content-type'], /application\/json/)
  t.equal(json.json().info.title, 'Served')
  await parses(t, json.body)
  const yaml = await app.inject('/docs/asyncapi.yaml')
  t.match(yaml.headers['content-type'], /application\/yaml/)
  t.same(parseYaml(yaml.body), json.json(), 'the YAML is the same document')
  t.equal((await app.inject('/docs/asyncapi.yaml')).body, yaml.body, 'generated once')
  const defaults = await build(t, { asyncapi: {} })
  t.equal((await defaults.inject('/asyncapi.json')).statusCode, 200)
  await t.rejects(build(t, { asyncapi: { path: 'asyncapi' } }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /asyncapi\.path/ })
  await t.rejects(build(t, { asyncapi: 'yes' as never }), { code: 'FST_PACHINKO_OPTION_INVALID', message: /"asyncapi"/ })
})

t.test('the CLI writes the document of an app module without starting it', async (t) => {
  const out: string[] = []
  const err: string[] = []
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) }
  t.equal(await main(['asyncapi', 'example/chat/app.ts', '--title', 'Chat', '--server', 'local=ws://localhost:3000/base'], io), 0, err.join(''))
  const document = JSON.parse(out.join('')) as Json
  await parses(t, document)
  t.same(document.info, { title: 'Chat', version: '0.1.0' })
  t.same(document.servers, { local: { host: 'localhost:3000', protocol: 'ws', pathname: '/base' } })

  const dir = mkdtempSync(join(tmpdir(), 'pachinko-asyncapi-'))
  t.equal(await main(['asyncapi', 'example/reference/app.ts', '--export', 'buildReferenceApp', '--out', join(dir, 'ref.yaml'), '--version', '9'], io), 1, 'a builder that needs arguments fails cleanly')
  t.match(err.pop(), /fastify-pachinko asyncapi: /)
  t.equal(await main(['asyncapi', 'example/chat/app.ts', '--out', join(dir, 'chat.yaml')], io), 0)
  t.same(parseYaml(readFileSync(join(dir, 'chat.yaml'), 'utf8')).channels, document.channels)
  out.length = 0
  t.equal(await main(['asyncapi', 'example/chat/app.ts', '--yaml'], io, process.cwd()), 0)
  t.match(out.join(''), /^asyncapi: 3\.0\.0/)
  t.equal(await main(['asyncapi', 'example/chat/app.ts', '--out', join(dir, 'chat.json')], io, dir), 1, 'relative to the given cwd')

  for (const [argv, pattern] of [
    [[], /no command given/], [['serve'], /unknown command "serve"/], [['asyncapi'], /no module given/], [['asyncapi', 'a', 'b'], /unexpected argument "b"/],
    [['asyncapi', 'a', '--nope'], /unknown option --nope/], [['asyncapi', 'a', '--out'], /--out needs a value/]
  ] as Array<[string[], RegExp]>) {
    t.equal(await main(argv, io), 2)
    t.match(err.pop(), pattern)
  }
  t.equal(await main(['asyncapi', 'example/chat/app.ts', '--out', join(dir, 'missing', 'x.json')], io), 1, 'a file that cannot be written')
  t.match(err.pop(), /ENOENT/)
  t.equal(await main(['asyncapi', 'example/chat/app.ts', '--server', 'local=http://x'], io), 1)
  t.match(err.pop(), /expected NAME=ws:\/\/host/)
  t.equal(await main(['asyncapi', 'example/chat/app.ts', '--export', 'missing'], io), 1)
  t.match(err.pop(), /no export named "missing"/)
  t.equal(await main(['asyncapi', 'example/chat/chat-room.ts'], io), 1)
  t.match(err.pop(), /has no candidate exports/, 'classes are not builders')
  t.equal(await main(['asyncapi', 'test/fixtures/asyncapi-not-an-app.ts'], io), 1)
  t.match(err.pop(), /has several candidate exports \(buildNothing, buildNothingElse\)/)
  t.equal(await main(['asyncapi', 'test/fixtures/asyncapi-not-an-app.ts', '--export', 'buildNothing'], io), 1)
  t.match(err.pop(), /did not give a Fastify app/)
  out.length = 0
  t.equal(await main(['asyncapi', join(process.cwd(), 'example/chat/app.ts'), '--server', 'prod=wss://chat.example.com'], io, dir), 0, 'no package.json in the cwd')
  t.match(JSON.parse(out.join('')), { info: { title: 'WebSocket API', version: '1.0.0' }, servers: { prod: { host: 'chat.example.com', protocol: 'wss' } } })
  t.equal(await main(['asyncapi', 'test/fixtures/asyncapi-default-app.ts'], io), 0, err.join(''))
})

t.test('the fastify-pachinko bin runs the command in its own process', async (t) => {
  const child = fork('lib/contract/asyncapi/cli.ts', ['asyncapi', 'example/chat/app.ts'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.equal(code, 0)
  const bad = fork('lib/contract/asyncapi/cli.ts', [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  let stderr = ''
  bad.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  t.equal(await new Promise((resolve) => bad.on('exit', resolve)), 2, 'bad usage exits 2')
  t.match(stderr, /Usage: fastify-pachinko asyncapi/)
  const app = await buildChatApp()
  t.teardown(() => app.close())
  t.same(JSON.parse(stdout), JSON.parse(JSON.stringify(app.ws.asyncapi({ info: { title: 'fastify-pachinko', version: '0.1.0' } }))), 'the chat example\'s document')
})
