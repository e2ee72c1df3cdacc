import { credentialExpired } from '../credentials/refresh.js'
import { ClientError } from '../messages/wire-errors.js'
import type { Channel } from './channel.js'
import type { ChannelContext } from './channel-context.js'
import type { JoinContext } from './channel-spec.js'
import type { HubMessage } from './codec.js'
import { REASON, thrownResponse } from './replies.js'
import type { FlowSocket, Joined } from './socket-types.js'

/*
 * phx_join, as Phoenix runs it: match a pattern, check the limit, make the
 * channel, join hooks, onJoin, subscribe, the join steps, the `ok` reply. A
 * second join of a joined topic ends the old channel first and sends its
 * phx_close (with the old join_ref) after the new reply.
 */

type Outcome = { ok: true, response: Record<string, unknown> } | { ok: false, response: Record<string, unknown> }

/** Runs one join; never rejects. */
export async function join (socket: FlowSocket, message: HubMessage): Promise<void> {
  const { topic, joinRef, ref } = message
  const found = socket.host.find(topic)
  if (found === undefined) return socket.reply(null, ref, topic, 'error', { reason: REASON.unmatched })
  // every join re-checks the socket's credential: an expired one subscribes to nothing more
  if (credentialExpired(socket.connection)) {
    socket.log.info({ topic }, 'join refused: the credential expired')
    return socket.reply(null, ref, topic, 'error', { reason: REASON.credentialExpired, code: 'CREDENTIAL_EXPIRED' })
  }
  const previous = socket.channels.get(topic)
  if (previous === undefined && socket.channels.size + socket.joining >= socket.host.maxChannels) {
    socket.log.info({ topic, limit: socket.host.maxChannels }, 'join refused: too many channels')
    return socket.reply(null, ref, topic, 'error', { reason: REASON.tooMany })
  }
  if (previous !== undefined) await socket.end(previous, 'rejoin')
  const context: ChannelContext = { topic, params: found.params, joinRef, socket, state: undefined, log: undefined }
  socket.joining++
  let joined: Joined | undefined
  let outcome: Outcome
  try {
    const channel = await socket.makeChannel(found.spec, context)
    joined = { topic, channel, context, spec: found.spec, hooks: socket.host.hooksFor(found.spec) }
    outcome = await decide(socket, joined, message.payload)
    if (outcome.ok) {
      socket.channels.set(topic, joined)
      await socket.host.subscribe(socket.connection, topic, found.spec, message.payload, outcome.response)
      for (const step of socket.host.joinSteps) await step({ channel, spec: found.spec, response: outcome.response })
    }
  } catch (err) {
    outcome = failed(socket, err, topic)
  } finally {
    socket.joining--
  }
  if (!outcome.ok) {
    if (joined !== undefined && socket.channels.get(topic) === joined) await socket.end(joined, 'leave')
    socket.reply(joinRef, ref, topic, 'error', outcome.response)
  } else if (socket.closed) {
    // the socket closed while the join ran: the channel ends with the others
    await socket.end(joined as Joined, 'disconnect')
    return
  } else {
    socket.reply(joinRef, ref, topic, 'ok', outcome.response)
  }
  if (previous !== undefined) socket.sendClose(previous.context.joinRef, topic)
}

/** Join hooks, then onJoin. */
async function decide (socket: FlowSocket, joined: Joined, payload: Record<string, unknown>): Promise<Outcome> {
  const { channel, context } = joined
  let refusal: Record<string, unknown> | undefined
  if (socket.host.beforeJoin.length > 0) {
    const hookContext: JoinContext = {
      topic: context.topic,
      params: context.params,
      payload,
      channel,
      connection: socket.connection,
      request: socket.request,
      assigns: socket.assigns,
      log: channel.log,
      refuse: (reason, details) => { refusal = { ...details, reason: String(reason) } }
    }
    for (const hook of socket.host.beforeJoin) {
      await hook(hookContext)
      if (refusal !== undefined) {
        socket.log.info({ topic: context.topic, reason: refusal.reason }, 'join refused by a join hook')
        return { ok: false, response: refusal }
      }
    }
  }
  const result = typeof channel.onJoin === 'function' ? await (channel as Channel).onJoin?.(payload) : undefined
  if (result === false) {
    socket.log.debug({ topic: context.topic }, 'join refused by onJoin')
    return { ok: false, response: { reason: REASON.refused } }
  }
  return { ok: true, response: result !== null && typeof result === 'object' ? { ...result } : {} }
}

function failed (socket: FlowSocket, error: unknown, topic: string): Outcome {
  if (error instanceof ClientError) socket.log.info({ topic, code: error.code }, `join refused: ${error.message}`)
  else socket.log.error({ err: error, topic }, 'join failed')
  return { ok: false, response: thrownResponse(error) }
}
