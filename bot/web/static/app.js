// hipbot web chat. Bot texts arrive as a tree of allowed nodes (bot/web/markup.py) and are
// built with createElement/createTextNode: no bot text is ever parsed as HTML here.
"use strict";

(function () {
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const TAGS = new Set(["b", "i", "u", "s", "code", "a"]);
  let token = "";
  let busy = false;

  function build(nodes, parent) {
    for (const node of nodes) {
      if (typeof node === "string") {
        parent.appendChild(document.createTextNode(node));
        continue;
      }
      if (!node || !TAGS.has(node.tag)) continue;
      const element = document.createElement(node.tag);
      if (node.tag === "a") {
        if (typeof node.href === "string" && /^(https?:|mailto:|tel:)/i.test(node.href)) {
          element.href = node.href;
          element.rel = "noopener noreferrer";
          element.target = "_blank";
        }
      }
      build(Array.isArray(node.children) ? node.children : [], element);
      parent.appendChild(element);
    }
  }

  function lastBot() {
    const all = log.querySelectorAll("li.bot");
    return all.length ? all[all.length - 1] : null;
  }

  function buttonRows(rows) {
    const box = document.createElement("div");
    box.className = "buttons";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Choices");
    for (const row of rows) {
      const line = document.createElement("div");
      line.className = "row";
      for (const choice of row) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = choice.label;
        button.addEventListener("click", function () {
          const all = Array.from(box.querySelectorAll("button"));
          act({ button: choice.data }, choice.label, false, all.indexOf(button));
        });
        line.appendChild(button);
      }
      box.appendChild(line);
    }
    return box;
  }

  function dropButtons(item) {
    if (!item) return;
    for (const old of item.querySelectorAll(".buttons")) old.remove();
  }

  function botItem(message) {
    const item = document.createElement("li");
    item.className = "msg bot";
    if (message.image) {
      // a picture from the flow: its alt text says what it shows
      const picture = document.createElement("img");
      picture.className = "picture";
      picture.src = message.image.url;
      picture.alt = message.image.alt || "";
      item.appendChild(picture);
    }
    const text = document.createElement("p");
    text.className = "text";
    build(message.content || [], text);
    item.appendChild(text);
    if (message.buttons && message.buttons.length) item.appendChild(buttonRows(message.buttons));
    return item;
  }

  function show(messages) {
    let first = null;
    for (const message of messages) {
      const last = lastBot();
      if (message.edit && last) {
        // a toggle (several choices): the buttons of the message on screen change
        dropButtons(last);
        if (message.buttons.length) last.appendChild(buttonRows(message.buttons));
        first = first || last;
        continue;
      }
      const item = botItem(message);
      if (message.replace && last) {
        log.replaceChild(item, last);
      } else {
        for (const old of log.querySelectorAll("li.bot")) dropButtons(old);
        log.appendChild(item);
      }
      first = first || item;
    }
    return first;
  }

  function showMine(text) {
    const item = document.createElement("li");
    item.className = "msg me";
    const p = document.createElement("p");
    p.className = "text";
    p.textContent = text;
    item.appendChild(p);
    log.appendChild(item);
    return item;
  }

  function offerDownloads(documents) {
    for (const doc of documents || []) {
      const bytes = Uint8Array.from(atob(doc.data), function (c) { return c.charCodeAt(0); });
      const url = URL.createObjectURL(new Blob([bytes], { type: "application/json" }));
      const item = document.createElement("li");
      item.className = "msg bot";
      const p = document.createElement("p");
      p.className = "text";
      p.textContent = doc.caption;
      const link = document.createElement("a");
      link.className = "download";
      link.href = url;
      link.download = doc.filename;
      link.textContent = "Download " + doc.filename;
      item.appendChild(p);
      item.appendChild(link);
      log.appendChild(item);
    }
  }

  function focusAfter(first, pressed) {
    // the top of the new messages comes into view (a long text is read from its start);
    // keyboard users who pressed a button lose it when buttons are replaced: the first
    // choice on screen (old messages keep none) gets the focus; after typing, the text box
    if (first) first.scrollIntoView({ block: "start" });
    const target = pressed ? log.querySelector("li.bot .buttons button") : null;
    if (target) target.focus({ preventScroll: true });
    else if (pressed) input.focus({ preventScroll: true });
  }

  async function post(payload) {
    return fetch("/api/send", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(payload),
    });
  }

  function toggled(index) {
    // a toggle of several choices: the pressed button keeps the focus, nothing scrolls
    const buttons = lastBot() ? lastBot().querySelectorAll(".buttons button") : [];
    if (buttons.length) buttons[Math.min(index, buttons.length - 1)].focus();
  }

  async function act(payload, shown, quiet, index) {
    if (busy) return;
    busy = true;
    document.body.setAttribute("aria-busy", "true");
    status.textContent = "";
    const mine = quiet ? null : showMine(shown);
    try {
      let response = await post(payload);
      if (response.status === 403) {
        await refreshToken();  // the server restarted: a new token, one more try
        response = await post(payload);
      }
      const body = await response.json();
      if (!response.ok) {
        status.textContent = body.error || "Something went wrong. Please try again.";
        return;
      }
      const messages = body.messages || [];
      if (messages.length && messages.every(function (m) { return m.edit; })) {
        if (mine) mine.remove();
        show(messages);
        toggled(index || 0);
        return;
      }
      for (const old of log.querySelectorAll("li.bot")) dropButtons(old);
      const first = show(messages);
      offerDownloads(body.documents);
      focusAfter(mine && !quiet ? mine : first, payload.button !== undefined || quiet);
    } catch (error) {
      status.textContent = "I could not reach the server. Please try again.";
    } finally {
      busy = false;
      document.body.removeAttribute("aria-busy");
    }
  }

  async function refreshToken() {
    const response = await fetch("/api/history", { credentials: "same-origin" });
    const body = await response.json();
    token = body.token || "";
    return body;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    act({ text: text }, text);
  });

  for (const shortcut of document.querySelectorAll("[data-command]")) {
    shortcut.addEventListener("click", function () {
      act({ text: shortcut.dataset.command }, shortcut.textContent);
    });
  }

  refreshToken().then(function (body) {
    const messages = body.messages || [];
    if (messages.length) {
      show(messages);
    } else {
      act({ text: "/start" }, "", true);
    }
  }).catch(function () {
    status.textContent = "I could not reach the server. Please reload the page.";
  });
})();
