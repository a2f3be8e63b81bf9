// The held PUBACKs of ingest (central/ingest/acks.ts), without a broker: sent in arrival order once
// settled, never on a connection other than their message's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeldAcks } from '../../central/ingest/acks';

function heldAcks(): { acks: HeldAcks; sent: number[] } {
  const sent: number[] = [];
  return { acks: new HeldAcks((id) => sent.push(id)), sent };
}

test('a PUBACK goes out when its message is settled, and not before the earlier ones’', () => {
  const { acks, sent } = heldAcks();
  acks.connected();
  const [a, b, c] = [acks.hold(7), acks.hold(3), acks.hold(9)];
  assert.equal(acks.held, 3);
  acks.settle(c);
  acks.settle(b);
  assert.deepEqual(sent, [], 'the first is still being written');
  acks.settle(a);
  assert.deepEqual(sent, [7, 3, 9]);
  assert.equal(acks.held, 0);
  acks.settle(a);
  assert.deepEqual(sent, [7, 3, 9], 'settling twice sends once');
});

test('acknowledgements owed on a closed connection are dropped, also when a packet id comes again', () => {
  const { acks, sent } = heldAcks();
  acks.connected();
  const old = acks.hold(1);
  acks.closed();
  acks.settle(old);
  assert.deepEqual(sent, [], 'nothing written on a closed connection');
  acks.connected();
  // The broker sends message 1 again with its packet id, and may reuse the id after it is acknowledged.
  const again = acks.hold(1);
  acks.settle(old);
  assert.deepEqual(sent, [], 'the old connection’s settle does not acknowledge the new delivery');
  acks.settle(again);
  assert.deepEqual(sent, [1]);
});

test('a settle without an acknowledgement (QoS 0) changes nothing', () => {
  const { acks, sent } = heldAcks();
  acks.connected();
  const a = acks.hold(5);
  acks.settle(undefined);
  assert.equal(acks.held, 1);
  acks.settle(a);
  assert.deepEqual(sent, [5]);
});
