// Delivery order under concurrent bursts, with the real socket.io-client: one user's four
// sockets each emit 100 send_message at once, without acks, into a direct conversation whose
// other member has two sockets in its room. Every round checks its own 400 messages: each
// receiving socket gets all of them, in the stored seq order (consecutive, no gap, no
// duplicate), and each sending socket's messages are stored in the order it emitted them.
//
// socketio_clients.rs runs this file on its own, on a server with several workers; its name
// (not *.test.mjs) keeps it out of the default `node --test` run of the other files. Round r
// (from 0) of transport t has users 2 * (t * ROUNDS + r) + 1 and + 2 to itself, so that no
// round sees another's messages: the driver provisions users 1 to 2 * TRANSPORTS.length * ROUNDS.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORTS, ask, clientsClosedAfterEach, collect, historyAfter, rest } from "./helpers.mjs";

/** Rounds per transport. */
const ROUNDS = 20;
const SENDERS = 4;
const RECEIVERS = 2;
const PER_SENDER = 100;
const TOTAL = SENDERS * PER_SENDER;

const client = clientsClosedAfterEach();

/** A message as compared: its place in the conversation and its identity. */
const key = (message) => `seq ${message.seq} (id ${message.id})`;

/** Where `got` first departs from `want`, with what came around it; null when they are equal. */
function departure(got, want) {
  const at = got.findIndex((message, i) => i >= want.length || key(message) !== key(want[i]));
  if (at === -1 && got.length === want.length) return null;
  const i = at === -1 ? got.length : at;
  const around = (list) => list.slice(Math.max(0, i - 2), i + 3).map((m) => m.seq).join(",");
  return `at position ${i} of ${want.length}: got ${got[i] ? key(got[i]) : "nothing"}, stored ${
    want[i] ? key(want[i]) : "nothing"
  } (seqs there: got ${around(got)}, stored ${around(want)})`;
}

/** Rejects at the first `event` on any of `sockets`. */
function failOn(sockets, event) {
  return new Promise((_, reject) => {
    for (const socket of sockets) {
      socket.once(event, (payload) => reject(new Error(`${event}: ${JSON.stringify(payload)}`)));
    }
  });
}

for (const [t, { name, transports }] of TRANSPORTS.entries()) {
  describe(`${SENDERS} sockets of one user each emit ${PER_SENDER} send_message at once, without acks, over ${name}`, () => {
    for (let round = 0; round < ROUNDS; round++) {
      const alice = 2 * (t * ROUNDS + round) + 1;
      const bob = alice + 1;
      test(`round ${round + 1}: both of the receiver's sockets get all ${TOTAL} new_message in the stored seq order, and each sender's in its emit order`, async () => {
        const first = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "before the burst" });
        assert.equal(first.status, 201, JSON.stringify(first.body));
        const { conversation_id: conversation, seq: before } = first.body.data;
        const receivers = [];
        for (let r = 0; r < RECEIVERS; r++) {
          const socket = await client(bob, transports);
          const joined = await ask(socket, "join_conversation", { conversationId: conversation });
          assert.equal(joined.success, true, JSON.stringify(joined));
          receivers.push(socket);
        }
        const senders = [];
        for (let s = 0; s < SENDERS; s++) senders.push(await client(alice, transports));

        const arrivals = receivers.map((socket) => collect(socket, "new_message", TOTAL, 60000));
        const refused = failOn(senders, "error");
        // The burst: all 400 emits in one go, the sockets taking turns.
        for (let i = 0; i < PER_SENDER; i++) {
          senders.forEach((socket, s) => socket.emit("send_message", { receiverId: bob, content: `s${s}-${i}` }));
        }
        const seen = await Promise.race([Promise.all(arrivals), refused]);

        const stored = await historyAfter(bob, conversation, before);
        assert.deepEqual(
          stored.map((message) => message.seq),
          Array.from({ length: TOTAL }, (_, i) => before + 1 + i),
          "the burst is stored under consecutive seqs",
        );
        for (const [r, got] of seen.entries()) {
          assert.equal(departure(got, stored), null, `receiver socket ${r + 1} sees the stored order`);
        }
        for (let s = 0; s < SENDERS; s++) {
          const own = stored.map((message) => message.content).filter((content) => content.startsWith(`s${s}-`));
          assert.deepEqual(
            own,
            Array.from({ length: PER_SENDER }, (_, i) => `s${s}-${i}`),
            `sender socket ${s + 1}'s messages are stored in the order it emitted them`,
          );
        }
      });
    }
  });
}
