// Small DOM helpers. Text always goes in as text nodes, never as HTML, so that nothing a
// user writes can run as markup.

export const $ = (selector) => document.querySelector(selector);

// h("p.text", { title: "x" }, "hello", child): an element with classes, attributes and children.
export function h(tag, attributes = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const element = document.createElement(name);
  if (classes.length) element.className = classes.join(" ");
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (value !== false && value != null) element.setAttribute(key, value === true ? "" : value);
  }
  element.append(...children.filter((child) => child != null && child !== false));
  return element;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

// "14:05" today, "3 Mar" before.
export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? timeFormat.format(date) : dayFormat.format(date);
}

export const clockTime = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");

// "alice", "alice and bob", "alice, bob and 2 others".
export function names(list) {
  if (list.length <= 2) return list.join(" and ");
  return `${list.slice(0, 2).join(", ")} and ${list.length - 2} other${list.length > 3 ? "s" : ""}`;
}
