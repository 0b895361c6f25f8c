// Edits, reactions and pins with the real socket.io-client: `edit_message` is acknowledged
// with the edited record, the room gets `message_edited`, `reaction_added` and
// `message_pinned` live, and a socket that was away while a message was edited and reacted to
// and another was sent, edited and deleted recovers each change once, in order, and nothing of
// the deleted message. Users 37..40 are this file's own (two per transport).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORTS, ask, clientsClosedAfterEach, connect, next, rest } from "./helpers.mjs";

const client = clientsClosedAfterEach();

TRANSPORTS.forEach(({ name, transports }, index) => {
  const [alice, bob] = [37 + 2 * index, 38 + 2 * index];

  describe(`edits over ${name}`, () => {
    test("a reaction reaches the room live with its count", async () => {
      const sent = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "react" })).body.data;
      const bobSocket = await client(bob, transports);
      await ask(bobSocket, "join_conversation", { conversationId: sent.conversation_id });
      const added = next(bobSocket, "reaction_added");
      const answer = await rest(alice, "PUT", `/api/chat/messages/${sent.id}/reactions/thumbsup`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(await added, { conversationId: sent.conversation_id, messageId: sent.id, seq: sent.seq, key: "thumbsup", userId: alice, count: 1 });
    });

    test("an edit is acknowledged with editedAt and reaches the room as message_edited", async () => {
      const sent = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "helo" });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const message = sent.body.data;
      const [aliceSocket, bobSocket] = await Promise.all([client(alice, transports), client(bob, transports)]);
      await ask(bobSocket, "join_conversation", { conversationId: message.conversation_id });
      const edited = next(bobSocket, "message_edited");
      const ack = await ask(aliceSocket, "edit_message", { messageId: message.id, content: "hello" });
      assert.equal(ack.success, true, JSON.stringify(ack));
      assert.equal(ack.data.content, "hello");
      assert.ok(ack.data.editedAt, "the ack carries editedAt");
      const seen = await edited;
      assert.deepEqual([seen.id, seen.seq, seen.content, seen.editedAt], [message.id, message.seq, "hello", ack.data.editedAt]);
      // Bob may not edit Alice's message: refused, and nothing reaches the room.
      const refused = await ask(bobSocket, "edit_message", { messageId: message.id, content: "mine now" });
      assert.equal(refused.success, false, JSON.stringify(refused));
      const history = await rest(bob, "GET", `/api/chat/messages/${message.id}/history`);
      assert.deepEqual(history.body.data.map((v) => v.content), ["helo", "hello"]);
    });

    test("a socket away while messages are edited and deleted recovers each change once, in order", async () => {
      const first = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "v1" });
      const message = first.body.data;
      const socket = await connect(bob, transports, { reconnection: true, reconnectionDelay: 300 });
      try {
        await ask(socket, "join_conversation", { conversationId: message.conversation_id });
        const seen = [];
        socket.onAny((event, payload) => {
          if (["new_message", "message_edited", "reaction_added", "message_deleted"].includes(event)) seen.push([event, payload]);
        });
        const recovered = new Promise((resolve) => socket.once("connect", () => resolve(socket.recovered)));
        socket.io.engine.close();
        // While Bob is away: the message is edited twice and reacted to; another is sent,
        // edited, deleted.
        for (const content of ["v2", "v3"]) {
          const edit = await rest(alice, "PATCH", `/api/chat/messages/${message.id}`, { content });
          assert.equal(edit.status, 200, JSON.stringify(edit.body));
        }
        const reacted = await rest(alice, "PUT", `/api/chat/messages/${message.id}/reactions/${encodeURIComponent("🎉")}`);
        assert.equal(reacted.status, 200, JSON.stringify(reacted.body));
        const doomed = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "secret" })).body.data;
        assert.equal((await rest(alice, "PATCH", `/api/chat/messages/${doomed.id}`, { content: "secret 2" })).status, 200);
        assert.equal((await rest(alice, "DELETE", `/api/chat/messages/${doomed.id}`)).status, 200);
        assert.equal(await recovered, true, "socket.recovered");
        const deadline = Date.now() + 10000;
        while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(
          seen.map(([event, payload]) => [event, payload.key ?? payload.content ?? payload.messageId]),
          [["message_edited", "v2"], ["message_edited", "v3"], ["reaction_added", "🎉"], ["message_deleted", doomed.id]],
          JSON.stringify(seen),
        );
        assert.ok(!JSON.stringify(seen).includes("secret"), "nothing of the deleted message's text");
      } finally {
        socket.close();
      }
    });
  });
});

TRANSPORTS.forEach(({ name, transports }, index) => {
  const [alice, bob] = [37 + 2 * index, 38 + 2 * index];

  describe(`pins over ${name}`, () => {
    test("a pin reaches the room live, and a socket that was away recovers pin and unpin in order", async () => {
      const sent = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "pin me" })).body.data;
      const path = `/api/chat/conversations/${sent.conversation_id}/pins/${sent.id}`;
      const socket = await connect(bob, transports, { reconnection: true, reconnectionDelay: 300 });
      try {
        await ask(socket, "join_conversation", { conversationId: sent.conversation_id });
        const pinned = next(socket, "message_pinned");
        assert.equal((await rest(alice, "PUT", path)).status, 200);
        assert.deepEqual(await pinned, { conversationId: sent.conversation_id, messageId: sent.id, seq: sent.seq, by: alice });
        const seen = [];
        socket.onAny((event, payload) => {
          if (event.startsWith("message_")) seen.push([event, payload.messageId ?? payload.id]);
        });
        const recovered = new Promise((resolve) => socket.once("connect", () => resolve(socket.recovered)));
        socket.io.engine.close();
        assert.equal((await rest(alice, "DELETE", path)).status, 200);
        assert.equal((await rest(bob, "PUT", path)).status, 200);
        assert.equal(await recovered, true, "socket.recovered");
        const deadline = Date.now() + 10000;
        while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(seen, [["message_unpinned", sent.id], ["message_pinned", sent.id]]);
      } finally {
        socket.close();
      }
    });
  });
});
