import 'reflect-metadata'
import { INJECT_KEY } from '../metadata-keys.js'
import { ERR_DI_CAPTIVE, ERR_DI_CYCLE, ERR_DI_MISSING_SERVICE, ERR_DI_UNTYPED_PARAMETER, ERR_OPTION_INVALID } from '../errors.js'

/** What a service is registered and asked for by: its class, or a string or symbol. */
export type Token<T = unknown> = (abstract new (...args: never[]) => T) | string | symbol

/** How long a registered service lives: one for the app, or one per connection (disposed when it closes). */
export type Scope = 'singleton' | 'connection'

/** Options of `container.register`. */
export interface RegisterOptions<T> {
  /** @default 'singleton' */
  scope?: Scope
  /** Called when the service's scope ends (connection closed, or app closed for singletons). Default: `Symbol.asyncDispose` / `Symbol.dispose` if it has one. */
  dispose?: (value: T) => void | Promise<void>
}

/** Resolves services; what a factory provider receives. */
export interface Resolver {
  /** The service registered for `token` (built on first use for a class or factory). */
  resolve<T> (token: Token<T>): Promise<T>
}

type Provider<T> = { kind: 'class', cls: new (...args: never[]) => T } | { kind: 'factory', make: (resolver: Resolver) => T | Promise<T> } | { kind: 'value', value: T }

interface Registration<T = unknown> {
  provider: Provider<T>
  scope: Scope
  dispose: ((value: T) => void | Promise<void>) | undefined
}

// module-private method keys: how the container and its scopes talk, out of the public surface
const kResolveIn = Symbol('resolveIn')
const kResolveAlong = Symbol('resolveAlong')
const kMake = Symbol('make')
const kInstance = Symbol('instance')
const UNTYPED = new Set<unknown>([Object, String, Number, Boolean, Array, Function, Promise, undefined])

/**
 * Marks a class whose constructor parameters are injected by type (it makes
 * TypeScript emit `design:paramtypes`; without a class decorator it does not).
 * @example @injectable() class ChatRoom extends WebSocketResource { constructor (private readonly db: Database) { super() } }
 */
export function injectable (): ClassDecorator {
  return () => {}
}

/** Injects the service registered under a string or symbol token into a constructor parameter. */
export function inject (token: Token): ParameterDecorator {
  return (target, _key, index) => {
    const tokens: Map<number, Token> = Reflect.getOwnMetadata(INJECT_KEY, target) ?? new Map()
    tokens.set(index, token)
    Reflect.defineMetadata(INJECT_KEY, tokens, target)
  }
}

/** The tokens of a class's constructor parameters from `first` on: `@inject` first, then the declared type. */
export function parameterTokens (cls: abstract new (...args: never[]) => unknown, first: number): Array<Token | undefined> {
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', cls) ?? []
  const injected: Map<number, Token> = Reflect.getOwnMetadata(INJECT_KEY, cls) ?? new Map()
  const count = Math.max(types.length, cls.length, ...[...injected.keys()].map((i) => i + 1))
  const tokens: Array<Token | undefined> = []
  for (let i = first; i < count; i++) {
    const token = injected.get(i) ?? types[i]
    tokens.push(UNTYPED.has(token) ? undefined : token as Token)
  }
  return tokens
}

/** A readable name for a token, for errors and logs. */
export function tokenName (token: Token): string {
  return typeof token === 'function' ? token.name : String(token)
}

/**
 * The built-in container (`app.ws.container`): constructor injection by type
 * (`@injectable()` classes) or by `@inject(token)`, singleton or
 * per-connection scope. For any other container, use the `resourceFactory` option.
 */
export class Container implements Resolver {
  private readonly registrations = new Map<Token, Registration>()
  private readonly singletons = new Map<Token, Promise<unknown>>()
  private readonly created: Array<[unknown, Registration]> = []

  /**
   * Registers a service. `provider` is a class (constructed with injection), a
   * factory `(resolver) => value` (sync or async), or a value; omitted, the token
   * (a class) is its own provider. Use `registerValue` for a function as value.
   */
  register<T> (token: Token<T>, provider?: (new (...args: never[]) => T) | ((resolver: Resolver) => T | Promise<T>) | T, options: RegisterOptions<T> = {}): this {
    if (typeof token !== 'function' && typeof token !== 'string' && typeof token !== 'symbol') throw new ERR_OPTION_INVALID('token', 'must be a class, a string or a symbol')
    if (provider === undefined && typeof token !== 'function') {
      throw new ERR_OPTION_INVALID('provider', `${tokenName(token)} is a ${typeof token} token: give it a provider (a class, a factory or a value; registerValue for a function)`)
    }
    const source = provider === undefined ? token : provider
    const kind: Provider<T> = typeof source === 'function'
      ? (isClass(source) ? { kind: 'class', cls: source as new (...args: never[]) => T } : { kind: 'factory', make: source as (resolver: Resolver) => T })
      : { kind: 'value', value: source as T }
    return this.add(token, kind, options)
  }

  /** Registers a value as it is, even a function. */
  registerValue<T> (token: Token<T>, value: T, options: RegisterOptions<T> = {}): this {
    return this.add(token, { kind: 'value', value }, options)
  }

  /** Whether `token` has a registration. */
  has (token: Token): boolean {
    return this.registrations.has(token)
  }

  /** Resolves a singleton (a connection-scoped service needs a connection: see `scope()`). */
  async resolve<T> (token: Token<T>): Promise<T> {
    return await this[kResolveIn](token, undefined, []) as T
  }

  /** A per-connection resolver; `locals` are values only this connection sees (its Connection, for example). */
  scope (locals: Map<Token, unknown>): ConnectionScope {
    return new ConnectionScope(this, locals)
  }

  /** Throws, at declaration, for a constructor parameter no one can provide. */
  check (cls: abstract new (...args: never[]) => unknown, first: number, builtIns: ReadonlySet<Token>): void {
    for (const [offset, token] of parameterTokens(cls, first).entries()) {
      if (token === undefined) throw new ERR_DI_UNTYPED_PARAMETER(first + offset, cls.name)
      if (!this.has(token) && !builtIns.has(token)) throw new ERR_DI_MISSING_SERVICE(tokenName(token), cls.name)
    }
  }

  /** Builds an instance of `cls` with `leading` as its first arguments and the rest injected. */
  async construct<T> (cls: new (...args: never[]) => T, leading: unknown[], resolver: Resolver, build: (args: unknown[]) => T = (args) => new (cls as new (...args: unknown[]) => T)(...args)): Promise<T> {
    const tokens = parameterTokens(cls, leading.length)
    const rest: unknown[] = []
    for (const [offset, token] of tokens.entries()) {
      if (token === undefined) throw new ERR_DI_UNTYPED_PARAMETER(leading.length + offset, cls.name)
      rest.push(await resolver.resolve(token))
    }
    return build([...leading, ...rest])
  }

  /** Disposes every singleton created; on app close. */
  async dispose (): Promise<void> {
    await disposeAll(this.created.splice(0))
  }

  /** Resolves `token` for a scope (none: the app), `path` being the tokens whose construction asked for it. */
  async [kResolveIn] (token: Token, scope: ConnectionScope | undefined, path: readonly Token[]): Promise<unknown> {
    if (path.includes(token)) throw new ERR_DI_CYCLE([...path.slice(path.indexOf(token)), token].map(tokenName).join(' → '))
    const registration = this.registrations.get(token)
    if (registration === undefined) throw new ERR_DI_MISSING_SERVICE(tokenName(token), scope === undefined ? 'the app' : 'a connection')
    const along = [...path, token]
    if (registration.scope === 'connection') {
      if (scope === undefined) throw new ERR_DI_CAPTIVE(tokenName(token))
      return await scope[kInstance](token, registration, { resolve: async (next) => await scope[kResolveAlong](next, along) as never })
    }
    let pending = this.singletons.get(token)
    if (pending === undefined) {
      // a singleton is made from singletons only, whoever asked first
      pending = this[kMake](registration, { resolve: async (next) => await this[kResolveIn](next, undefined, along) as never }).then((value) => {
        this.created.push([value, registration])
        return value
      })
      this.singletons.set(token, pending)
      pending.catch(() => this.singletons.delete(token))
    }
    return await pending
  }

  /** @internal */
  async [kMake] (registration: Registration, resolver: Resolver): Promise<unknown> {
    const { provider } = registration
    if (provider.kind === 'value') return provider.value
    if (provider.kind === 'factory') return await provider.make(resolver)
    return await this.construct(provider.cls, [], resolver)
  }

  private add<T> (token: Token<T>, provider: Provider<T>, options: RegisterOptions<T>): this {
    const scope = options.scope ?? 'singleton'
    if (scope !== 'singleton' && scope !== 'connection') throw new ERR_OPTION_INVALID('scope', "must be 'singleton' or 'connection'")
    if (this.registrations.has(token)) throw new ERR_OPTION_INVALID('token', `${tokenName(token)} is already registered`)
    this.registrations.set(token, { provider, scope, dispose: options.dispose as Registration['dispose'] })
    return this
  }
}

/** One connection's view of the container: its own connection-scoped instances, disposed when it closes. */
export class ConnectionScope implements Resolver {
  private readonly instances = new Map<Token, Promise<unknown>>()
  private readonly created: Array<[unknown, Registration]> = []

  constructor (private readonly container: Container, private readonly locals: Map<Token, unknown>) {}

  /** The service for `token`: this connection's instance for a connection-scoped one, else the container's. */
  async resolve<T> (token: Token<T>): Promise<T> {
    return await this[kResolveAlong](token, []) as T
  }

  /** @internal */
  async [kResolveAlong] (token: Token, path: readonly Token[]): Promise<unknown> {
    if (this.locals.has(token)) return this.locals.get(token)
    return await this.container[kResolveIn](token, this, path)
  }

  /** @internal */
  async [kInstance] (token: Token, registration: Registration, resolver: Resolver): Promise<unknown> {
    let pending = this.instances.get(token)
    if (pending === undefined) {
      pending = this.container[kMake](registration, resolver).then((value) => {
        this.created.push([value, registration])
        return value
      })
      this.instances.set(token, pending)
    }
    return await pending
  }

  /** Disposes what this connection created, newest first; failures are collected, not thrown one by one. */
  async dispose (): Promise<void> {
    await disposeAll(this.created.splice(0))
  }
}

async function disposeAll (created: Array<[unknown, Registration]>): Promise<void> {
  const errors: unknown[] = []
  for (const [value, registration] of created.reverse()) {
    try {
      if (registration.dispose !== undefined) await registration.dispose(value)
      else await disposeByProtocol(value)
    } catch (err) {
      errors.push(err)
    }
  }
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} services failed to dispose`)
}

// Node 20.0–20.3 predate the explicit resource management symbols (the fallback runs only there)
/* c8 ignore next 2 */
const ASYNC_DISPOSE: symbol = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')
const DISPOSE: symbol = Symbol.dispose ?? Symbol.for('nodejs.dispose')

async function disposeByProtocol (value: unknown): Promise<void> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return
  const disposable = value as Record<symbol, (() => unknown) | undefined>
  const asyncDispose = disposable[ASYNC_DISPOSE]
  if (typeof asyncDispose === 'function') {
    await asyncDispose.call(value)
    return
  }
  const dispose = disposable[DISPOSE]
  if (typeof dispose === 'function') dispose.call(value)
}

/** True for a `class` (as opposed to a plain or arrow function). */
export function isClass (value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value))
}
