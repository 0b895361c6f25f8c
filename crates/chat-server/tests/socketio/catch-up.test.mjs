// Catching up by seq with the real socket.io-client: `join_conversation { lastSeq }` sends the
// messages after lastSeq, then the live ones, with nothing lost or repeated at the seam even
// while messages keep arriving during the join. Users 21..24 are this file's own.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORTS, ask, clientsClosedAfterEach, historyAfter, rest } from "./helpers.mjs";

const client = clientsClosedAfterEach();

/** Resolves once `socket` has received `count` new_message, or rejects after `ms`. */
function receiveAtLeast(socket, received, count, ms = 20000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (received.length >= count) {
        clearTimeout(timer);
        socket.off("new_message", check);
        resolve();
      }
    };
    const timer = setTimeout(() => {
      socket.off("new_message", check);
      reject(new Error(`${received.length} of ${count} new_message within ${ms} ms`));
    }, ms);
    socket.on("new_message", check);
    check();
  });
}

for (const [round, { name, transports }] of TRANSPORTS.entries()) {
  const alice = 21 + 2 * round;
  const bob = alice + 1;
  describe(`join_conversation with lastSeq over ${name}`, () => {
    test("sends what came after lastSeq, then live messages, each once, in order, while sends go on (5 rounds)", async () => {
      const first = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "start" });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const conversation = first.body.data.conversation_id;
      for (let round = 0; round < 5; round++) {
        let latest = 0;
        for (let n = 0; n < 30; n++) {
          const sent = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: `before ${n}` });
          latest = sent.body.data.seq;
        }
        const lastSeq = latest - 20;
        const socket = await client(bob, transports);
        const received = [];
        socket.on("new_message", (message) => received.push(message));
        // Sends keep arriving, four at a time, while the join reads its catch-up.
        const during = Promise.all(
          [0, 1, 2, 3].map(async (lane) => {
            for (let n = 0; n < 15; n++) {
              await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: `during ${lane}.${n}` });
            }
          }),
        );
        const joined = await ask(socket, "join_conversation", { conversationId: conversation, lastSeq });
        assert.equal(joined.success, true, JSON.stringify(joined));
        assert.equal(joined.data.complete, true);
        assert.ok(joined.data.replayed >= 20, JSON.stringify(joined.data));
        await during;
        const stored = await historyAfter(bob, conversation, lastSeq);
        assert.equal(stored.length, 80);
        await receiveAtLeast(socket, received, stored.length);
        assert.deepEqual(
          received.map((m) => m.seq),
          stored.map((m) => m.seq),
          `round ${round + 1}: every message after lastSeq once, in order`,
        );
        socket.close();
      }
    });

    test("a lastSeq that is not a non-negative integer, or is ahead of the conversation, is refused naming it", async () => {
      const first = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "x" });
      const socket = await client(bob, transports);
      for (const lastSeq of [-1, "ten", 1.5, 1e9]) {
        const answer = await ask(socket, "join_conversation", {
          conversationId: first.body.data.conversation_id,
          lastSeq,
        });
        assert.equal(answer.success, false, JSON.stringify(answer));
        assert.equal(answer.field, "lastSeq");
      }
    });
  });
}
