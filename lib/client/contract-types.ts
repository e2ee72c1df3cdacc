import type { Static, TSchema } from 'typebox'

/*
 * The client's types, read from a resource class (`typeof ChatRoom`): what it
 * accepts (`static schema`), what it sends (`static emits`), and what its
 * handlers return (a request's reply). Type-only: nothing here exists at run
 * time, so the client's import graph stays free of the server.
 */

/** What a resource class looks like to the client: its statics and its prototype. */
export interface ResourceContract {
  readonly schema?: TSchema
  readonly emits?: TSchema
  readonly prototype: object
}

/** True when no resource type was given: every tag and payload is then loosely typed. */
type Loose<R> = unknown extends R ? true : false
/** A side the class does not declare (no `static schema` / `static emits`) is loosely typed too. */
type Undeclared<M> = [M] extends [never] ? true : false

/** The messages the server accepts (the members of `static schema`). */
export type ClientMessage<R> = R extends { schema: infer S extends TSchema } ? Static<S> : never

/** The messages the server sends (the members of `static emits`). */
export type ServerMessage<R> = R extends { emits: infer E extends TSchema } ? Static<E> : never

/** The tags the client may send. */
export type ClientTag<R, D extends string = 'type'> = Loose<R> extends true ? string : Undeclared<ClientMessage<R>> extends true ? string : TagOf<ClientMessage<R>, D>

/** The tags the server may send. */
export type ServerTag<R, D extends string = 'type'> = Loose<R> extends true ? string : Undeclared<ServerMessage<R>> extends true ? string : TagOf<ServerMessage<R>, D>

type TagOf<M, D extends string> = M extends { [K in D]: infer T extends string } ? T : never
type ByTag<M, D extends string, T> = Extract<M, { [K in D]: T }>
type PayloadOf<M> = [M] extends [never] ? unknown : M extends { payload: infer P } ? P : undefined

/** The payload of a client message of tag `T`. */
export type ClientPayload<R, T, D extends string = 'type'> = Loose<R> extends true ? unknown : PayloadOf<ByTag<ClientMessage<R>, D, T>>

/** The payload of a server message of tag `T`. */
export type ServerPayload<R, T, D extends string = 'type'> = Loose<R> extends true ? unknown : PayloadOf<ByTag<ServerMessage<R>, D, T>>

/** `send(tag)` for a message without payload, `send(tag, payload)` otherwise. */
export type PayloadArgs<P> = unknown extends P ? [payload?: unknown] : [P] extends [undefined] ? [] : [payload: P]

type Handler<I, K> = K extends keyof I ? I[K] : never
type MethodFor<I, T extends string> = T extends keyof I ? I[T] : Handler<I, `on${Capitalize<T>}`>

/**
 * What a request of tag `T` resolves to: the awaited return type of the
 * handler — a method named like the tag, or `on<Tag>` — and unknown when
 * neither is visible to TypeScript.
 */
export type ReplyPayload<R, T extends string> = R extends { prototype: infer I }
  ? MethodFor<I, T> extends (...args: never[]) => infer Result ? Awaited<Result> : unknown
  : unknown
