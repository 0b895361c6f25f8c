// The seed document's client example, unchanged but for the URL and token it is given.
// It assumes conversation 1 between the token's user (1) and user 2; the Rust driver sets
// that up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SERVER_URL, TOKENS, next } from "./helpers.mjs";
import io from "socket.io-client";

test("the seed's own client example works unchanged", async () => {
  // --- the seed's example, verbatim but for the URL and token ---
  const socket = io(SERVER_URL, {
    auth: { token: TOKENS[1] }
  });

  socket.emit('join_conversation', { conversationId: 1 });
  socket.emit('send_message', {
    receiverId: 2,
    conversationId: 1,
    content: 'Hello via WebSocket!'
  });

  socket.on('new_message', (msg) => {
    console.log('Message received:', msg);
  });
  // --- end of the seed's example ---

  try {
    const message = await next(socket, "new_message");
    assert.equal(message.content, "Hello via WebSocket!");
    assert.equal(message.conversation_id, 1);
    assert.equal(message.sender_id, 1);
    assert.equal(message.receiver_id, 2);
  } finally {
    socket.close();
  }
});
