import 'reflect-metadata'
import Fastify, { type FastifyRequest } from 'fastify'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import pachinko, {
  CloseCode, WebSocketResource,
  type AdmissionOptions, type Connection, type OriginsOption, type PachinkoOptions, type RevocationSubject, type RevokeOptions, type UpgradeSubject
} from '../dist/lib/index.js'

const app = Fastify()
await app.register(pachinko, {
  origins: ['https://app.example.com', '*.example.org'],
  requireOrigin: true,
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  maxConnectionsPerUser: 5,
  identify: (request) => ({ user: String(request.headers['x-user']), labels: ['a'], expiresAt: new Date() }),
  credentials: { graceMs: 5000, resolutionMs: 500, onRefresh: (connection, credential) => { expectType<Connection>(connection); expectType<unknown>(credential); return new Date() } },
  inboundQueue: { maxFrames: 100, maxBytes: 1 << 20 }
})
expectAssignable<PachinkoOptions>({ origins: '*' })
expectAssignable<PachinkoOptions>({ origins: async (origin: string, request: FastifyRequest) => origin === request.host })
expectAssignable<AdmissionOptions>({ identify: async () => 'ann' })
expectAssignable<AdmissionOptions>({ identify: () => undefined })
expectNotAssignable<PachinkoOptions>({ origins: 42 })
expectNotAssignable<PachinkoOptions>({ maxConnections: '5' })
expectNotAssignable<PachinkoOptions>({ identify: () => 42 })
expectAssignable<OriginsOption>('same-origin')
expectAssignable<UpgradeSubject>({ user: 'ann' })
expectNotAssignable<UpgradeSubject>({ user: 5 })

// revoke: one subject, a count back
expectType<Promise<number>>(app.ws.revoke({ user: 'ann' }, { forMs: 1000, reason: 'password changed' }))
expectType<Promise<number>>(app.ws.revoke({ label: 'session:1' }))
expectType<Promise<number>>(app.ws.revoke({ connection: 'id' }))
expectError(app.ws.revoke({ room: 'x' }))
expectError(app.ws.revoke({ user: 'a' }, { forMs: '1s' }))
expectAssignable<RevocationSubject>({ user: 'a' })
expectAssignable<RevokeOptions>({})
expectType<Promise<number>>(app.ws.userSize('ann'))
expectType<Promise<void>>(app.ws.identify('id', 'ann', { expiresAt: new Date() }))

// route options and plain routes' config
app.addWebSocketRoute('/r', class extends WebSocketResource {}, { origins: ['https://a.com'], requireOrigin: false, identify: (request) => request.headers['x-user'] as string | undefined })
expectError(app.addWebSocketRoute('/r', class extends WebSocketResource {}, { origins: 5 }))
app.get('/raw', { config: { admission: false } }, async () => 'ok')
app.get('/raw2', { config: { admission: { origins: ['https://b.com'] } } }, async () => 'ok')

// expiring credentials on a connection and a resource
class Account extends WebSocketResource {
  override async onConnect () {
    await this.identify('ann', { expiresAt: new Date() })
    expectType<Date | undefined>(this.connection.expiresAt)
    this.connection.expiresAt = undefined
  }

  override onRefresh (credential: unknown) {
    return typeof credential === 'string' ? new Date() : false
  }
}
app.addWebSocketRoute('/a', Account)
expectType<4401>(CloseCode.CREDENTIAL_EXPIRED)
expectType<4403>(CloseCode.REVOKED)
expectType<number>(app.ws.metrics.upgradesRefused)
expectType<number>(app.ws.metrics.inboundPaused)
