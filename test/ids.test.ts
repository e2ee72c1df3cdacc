import t from 'tap'
import { createConnectionId, createNodeId, nodeOf } from '../lib/connection/ids.js'

t.test('makes unique, unguessable connection ids that name their node', async (t) => {
  const node = createNodeId()
  const ids = new Set<string>()
  for (let i = 0; i < 2000; i++) ids.add(createConnectionId(node))
  t.equal(ids.size, 2000, 'unique across several refills of the random pool')
  t.ok([...ids].every((id) => nodeOf(id) === node && /^[\w-]{8}\.[\w-]{16}$/.test(id)), 'shape: node id, a dot, 96 random bits')
  t.equal(nodeOf('no-dot-here'), '')
})
