// The people picker, one dialog for three things: a new chat (pick one person: their
// conversation opens, or a draft until the first message), a new group (a title and people),
// and members for the open group.

import { $, h } from "./view.js";

export function setUpPicker({ app, openConversation, inOpen }) {
  const picker = { mode: "chat", selected: new Map(), searchTimer: null };

  function openPicker(mode) {
    picker.mode = mode;
    picker.selected.clear();
    const titles = { chat: "New chat", group: "New group", add: "Add members" };
    $("#picker-title").textContent = titles[mode];
    $("#group-title").hidden = mode !== "group";
    $("#group-title").value = "";
    $("#picker-done").hidden = mode === "chat";
    $("#picker-done").textContent = mode === "group" ? "Create group" : "Add";
    $("#picker-error").textContent = "";
    $("#people-search").value = "";
    $("#picker").showModal();
    (mode === "group" ? $("#group-title") : $("#people-search")).focus();
    searchPeople();
  }

  async function searchPeople() {
    const { users } = await app.api.users($("#people-search").value.trim());
    const members = picker.mode === "add" ? app.view.members : new Map();
    const rows = users
      .filter((u) => !members.has(u.id))
      .map((user) =>
        h(
          `li${picker.selected.has(user.id) ? ".selected" : ""}`,
          {},
          h("button.person", { type: "button", dataset: { username: user.username }, onclick: (e) => pick(user, e.currentTarget) }, user.username),
        ),
      );
    $("#people").replaceChildren(...(rows.length ? rows : [h("li.empty", {}, "Nobody found.")]));
  }

  function pick(user, button) {
    if (picker.mode === "chat") {
      $("#picker").close();
      const direct = [...app.conversations.values()].find(
        (c) => c.kind !== "group" && [c.participant_1_id, c.participant_2_id].includes(user.id),
      );
      openConversation(direct ?? { draftWith: user });
      return;
    }
    if (picker.selected.has(user.id)) picker.selected.delete(user.id);
    else picker.selected.set(user.id, user);
    button.parentElement.classList.toggle("selected", picker.selected.has(user.id));
  }

  $("#new-chat").addEventListener("click", () => openPicker("chat"));
  $("#new-group").addEventListener("click", () => openPicker("group"));
  $("#add-member").addEventListener("click", () => openPicker("add"));
  $("#picker-cancel").addEventListener("click", () => $("#picker").close());
  $("#people-search").addEventListener("input", () => {
    clearTimeout(picker.searchTimer);
    picker.searchTimer = setTimeout(searchPeople, 200);
  });
  $("#picker").addEventListener("submit", async (event) => {
    event.preventDefault();
    const ids = [...picker.selected.keys()];
    try {
      if (picker.mode === "group") {
        const group = await app.api.createGroup($("#group-title").value.trim(), ids);
        app.upsert(group);
        $("#picker").close();
        await openConversation(app.conversations.get(group.id));
      } else if (picker.mode === "add" && ids.length) {
        const id = app.view.id;
        await app.api.addMembers(id, ids);
        $("#picker").close();
        const detail = await app.api.conversation(id);
        app.upsert(detail);
        inOpen(id, (v) => v.setMembers(detail.members));
      }
    } catch (error) {
      $("#picker-error").textContent = error.message;
    }
  });
}
