import 'reflect-metadata'
import type { FastifyInstance } from 'fastify'
import type { TestContext } from 'node:test'
import { expectAssignable, expectError, expectType } from 'tsd'
import type { Test } from 'tap'
import { WebSocketResource, type Connection, type ConnectionManager } from '../dist/lib/index.js'
import {
  connect, simulate, testApp,
  type ConnectResult, type Frame, type LogEntry, type RecordedSend, type Simulation, type TestConnection
} from '../dist/lib/testing/index.js'

class Room extends WebSocketResource<{ room: string }> {
  count = 0
  constructor (readonly size: number, readonly label: string) { super() }
}

// simulate() types its instance from the class and its args from the constructor
const sim = simulate(Room, { params: { room: 'a' }, args: [10, 'x'], query: { user: 'ann' }, headers: { cookie: 'c' } })
expectType<Simulation<Room, Frame>>(sim)
expectType<Room>(sim.resource)
expectType<number>(sim.resource.count)
expectType<Promise<ConnectResult>>(sim.connect())
expectType<Promise<Frame[]>>(sim.receive({ type: 'hi' }))
expectType<Promise<Frame[]>>(sim.receive('raw text'))
expectType<Promise<Frame[]>>(sim.receive(Buffer.from('x'), { binary: false }))
expectType<Frame[]>(sim.sent)
expectType<ReadonlyArray<RecordedSend<Frame>>>(sim.broadcasts)
expectType<ReadonlySet<string>>(sim.rooms)
expectType<LogEntry[]>(sim.logs)
expectType<Connection>(sim.connection)
expectType<ConnectionManager>(sim.ws)
expectAssignable<Promise<{ code: number, reason: string }>>(sim.disconnect(1000, 'bye'))
expectError(simulate(Room, { args: ['ten'] }))
expectError(simulate(Room, { params: 'room' }))
expectError(simulate(Room, { strict: 'yes' }))
expectError(sim.receive())

// a recorded send says where it went
const recorded = {} as RecordedSend
if (recorded.kind === 'room') expectType<string>(recorded.room)
if (recorded.kind === 'connection') expectType<string>(recorded.id)

// the fixtures take tap's t and node:test's TestContext
declare const tap: Test
declare const node: TestContext
expectType<Promise<FastifyInstance>>(testApp(tap, (app) => { app.addWebSocketRoute('/r', Room, { args: [1, 'a'] }) }))
expectType<Promise<FastifyInstance>>(testApp(node, undefined, { plugin: { maxPayload: 10 }, server: { logger: false } }))
expectError(testApp({}))
expectError(testApp(tap, undefined, { plugin: { maxPayload: 'big' } }))
declare const app: FastifyInstance
expectType<Promise<TestConnection>>(connect(app, '/r', { t: tap }))
expectType<Promise<TestConnection>>(connect(app, '/r', { t: node }))
expectType<Promise<TestConnection>>(connect(app, '/r'))
expectError(connect(app, '/r', { t: 'test' }))
