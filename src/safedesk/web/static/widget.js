/* SafeDesk chat widget. Embed with ONE tag: <script src="/widget.js" defer></script>
 *
 * Vanilla JS, no build step, no inline script or style (works under a strict CSP). Every message
 * is rendered with textContent: text from the customer, the assistant or staff is never parsed as
 * HTML. The conversation id and transcript live in sessionStorage (this tab only).
 *
 * Messages go through the streaming endpoint (server-sent events read with fetch): the reply grows
 * sentence by sentence in one bubble, and the final reply replaces it. When streaming fails before
 * the final reply, the message is sent again through the plain endpoint with the same idempotency
 * key, so it is never answered twice.
 */
(function () {
  "use strict";

  if (window.SafeDeskWidget) return; // loaded twice: keep the first
  window.SafeDeskWidget = { version: 1 };

  var script = document.currentScript;
  var ORIGIN = script && script.src ? new URL(script.src, window.location.href).origin : window.location.origin;
  var API = ORIGIN + "/api/v1";
  var STORE_KEY = "safedesk.widget.v1";
  var HANDOFF_TEXT = "I'd like to talk to a person";
  var POLL_WAIT_SECONDS = 20;
  var MAX_ITEMS = 200;
  var LABELS = { customer: "You", assistant: "AI assistant", staff: "Customer service" };
  var CAN_STREAM = typeof TextDecoder === "function" && typeof ReadableStream === "function";

  var state = {
    id: null, // conversation id
    disclosure: "",
    lastId: 0, // newest assistant/staff message id seen through polling
    items: [], // transcript: {id, from, author, text, failed}
    seen: {}, // server message ids already shown
    creating: null,
    polling: false,
    unread: 0,
    queue: Promise.resolve(),
    unsent: {}, // idempotency key -> clears the "Not sent" mark of a message whose answer arrived anyway
    answered: {}, // idempotency keys whose answer the long poll has brought
    abort: typeof AbortController === "function" ? new AbortController() : null,
  };

  // ---- DOM ---------------------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function loadStylesheet() {
    var href = ORIGIN + "/widget.css";
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) return;
    }
    document.head.appendChild(el("link", { rel: "stylesheet", href: href }));
  }

  var root = el("div", { class: "sd-widget", id: "safedesk-widget" });
  var launcher = el("button", {
    type: "button",
    class: "sd-launcher",
    "aria-expanded": "false",
    "aria-controls": "sd-panel",
  });
  var launcherText = el("span", {}, "Chat with us");
  var badge = el("span", { class: "sd-badge", hidden: "" });
  launcher.appendChild(launcherText);
  launcher.appendChild(badge);

  var panel = el("section", { class: "sd-panel", id: "sd-panel", role: "dialog", "aria-labelledby": "sd-title", hidden: "" });
  var head = el("div", { class: "sd-head" });
  var title = el("h2", { class: "sd-title", id: "sd-title" }, "Customer service chat");
  var closeButton = el("button", { type: "button", class: "sd-close", "aria-label": "Close chat" }, "\u00d7");
  head.appendChild(title);
  head.appendChild(closeButton);

  var notice = el("p", { class: "sd-notice", id: "sd-notice" }, "You are chatting with an AI assistant.");
  var log = el("div", {
    class: "sd-log",
    id: "sd-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Conversation",
    tabindex: "0",
  });
  var status = el("p", { class: "sd-status", id: "sd-status", role: "status", "aria-live": "polite" });

  var form = el("form", { class: "sd-form", novalidate: "" });
  var label = el("label", { for: "sd-input", class: "sd-label" }, "Your message");
  var input = el("textarea", { id: "sd-input", class: "sd-input", rows: "2", "aria-describedby": "sd-hint", autocomplete: "off" });
  var hint = el("p", { id: "sd-hint", class: "sd-hint" }, "Enter sends; Shift+Enter starts a new line.");
  var actions = el("div", { class: "sd-actions" });
  var sendButton = el("button", { type: "submit", class: "sd-send" }, "Send");
  var humanButton = el("button", { type: "button", class: "sd-human" }, "Talk to a person");
  actions.appendChild(sendButton);
  actions.appendChild(humanButton);
  [label, input, hint, actions].forEach(function (node) {
    form.appendChild(node);
  });
  [head, notice, log, status, form].forEach(function (node) {
    panel.appendChild(node);
  });
  root.appendChild(panel);
  root.appendChild(launcher);

  // ---- state kept for this tab ---------------------------------------------------------------

  function save() {
    try {
      window.sessionStorage.setItem(
        STORE_KEY,
        JSON.stringify({ id: state.id, disclosure: state.disclosure, lastId: state.lastId, items: state.items.slice(-MAX_ITEMS) })
      );
    } catch (e) {
      /* storage disabled or full: the conversation still works for this page */
    }
  }

  function restore() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      if (!saved || typeof saved.id !== "string") return;
      state.id = saved.id;
      state.disclosure = typeof saved.disclosure === "string" ? saved.disclosure : "";
      state.lastId = Number(saved.lastId) || 0;
      (Array.isArray(saved.items) ? saved.items : []).forEach(function (item) {
        if (item && typeof item.text === "string") render(item, true);
      });
    } catch (e) {
      /* unreadable: start afresh */
    }
  }

  function forget() {
    state.id = null;
    state.lastId = 0;
    state.seen = {};
    save();
  }

  // ---- rendering (textContent only) ----------------------------------------------------------

  function labelFor(item) {
    if (item.from === "staff") return item.author ? item.author + " (staff)" : LABELS.staff;
    return LABELS[item.from] || LABELS.assistant;
  }

  function messageRow(item) {
    var row = el("div", { class: "sd-msg sd-from-" + (LABELS[item.from] ? item.from : "assistant") });
    row.appendChild(el("span", { class: "sd-who" }, labelFor(item)));
    row.appendChild(el("p", { class: "sd-text", dir: "auto" }, item.text));
    return row;
  }

  function render(item, restoring) {
    if (item.id != null && state.seen[item.id]) return null;
    var row = messageRow(item);
    log.appendChild(row);
    var entry = remember(row, item, restoring);
    // A message that had not gone out before a reload keeps its "Send again" (and its key).
    if (item.failed && typeof item.key === "string") offerResend({ row: row, item: item }, item.text, item.key);
    else if (item.failed) row.appendChild(el("span", { class: "sd-failed" }, "Not sent"));
    return entry;
  }

  // Record a message shown in `row`: transcript, seen ids, unread badge.
  function remember(row, item, restoring) {
    if (item.id != null) state.seen[item.id] = true;
    log.scrollTop = log.scrollHeight;
    state.items.push(item);
    if (state.items.length > MAX_ITEMS) state.items.shift();
    if (restoring) return null;
    save();
    if (item.from !== "customer" && panel.hidden) {
      state.unread += 1;
      badge.textContent = state.unread + " new";
      badge.hidden = false;
    }
    return { row: row, item: item };
  }

  // The assistant's bubble for one reply. While streamed it is busy (screen readers wait for the
  // final text instead of announcing every sentence) and not yet part of the transcript.
  function replyBubble() {
    var row = messageRow({ from: "assistant", text: "" });
    row.classList.add("sd-streaming");
    row.setAttribute("aria-busy", "true");
    return { row: row, text: row.querySelector(".sd-text"), kept: false };
  }

  function growBubble(bubble, text) {
    if (!bubble.row.parentNode) log.appendChild(bubble.row);
    bubble.text.textContent += text;
    log.scrollTop = log.scrollHeight;
  }

  // The final reply: it REPLACES whatever was streamed (a later sentence may have failed a guard).
  function showReply(bubble, body) {
    var item = { id: body.reply_id, from: "assistant", author: null, text: body.reply };
    if (item.id != null && state.seen[item.id]) return; // the long poll showed it already
    bubble.text.textContent = item.text;
    bubble.row.classList.remove("sd-streaming");
    bubble.row.removeAttribute("aria-busy");
    if (!bubble.row.parentNode) log.appendChild(bubble.row);
    bubble.kept = true;
    remember(bubble.row, item, false);
  }

  function dropBubble(bubble) {
    if (!bubble.kept && bubble.row.parentNode) bubble.row.parentNode.removeChild(bubble.row);
  }

  // A message that did not go out: marked, with its own "Send again" (the same key, so a message the desk
  // did receive is not answered twice). Only the first unsent text goes back into an empty box.
  function markFailed(entry, text, key) {
    if (!entry || state.answered[key]) return false; // its answer already came by the long poll
    entry.item.failed = true;
    entry.item.key = key; // kept in the tab's transcript, so "Send again" survives a reload
    offerResend(entry, text, key);
    save();
    return true;
  }

  function offerResend(entry, text, key) {
    var mark = el("span", { class: "sd-failed" }, "Not sent");
    var again = el("button", { type: "button", class: "sd-again" }, "Send again");
    // The message may have arrived after all (only the answer was lost on the way back): when its answer
    // comes in by the long poll, the mark goes (see `poll`).
    function arrived() {
      delete state.unsent[key];
      if (mark.parentNode) entry.row.removeChild(mark);
      if (again.parentNode) entry.row.removeChild(again);
      entry.item.failed = false;
      save();
      if (input.value === text) input.value = "";
    }
    state.unsent[key] = arrived;
    again.addEventListener("click", function () {
      arrived();
      state.queue = state.queue.then(function () {
        return deliver(text, key, entry);
      });
    });
    entry.row.appendChild(mark);
    entry.row.appendChild(again);
  }

  function setStatus(text) {
    status.textContent = text || "";
  }

  function showNotice() {
    if (state.disclosure) notice.textContent = state.disclosure;
  }

  // ---- network ---------------------------------------------------------------------------------

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function retryAfter(response) {
    var seconds = parseInt(response.headers.get("Retry-After") || "", 10);
    return isNaN(seconds) ? 5 : Math.max(1, seconds);
  }

  // One retry, after a pause, when the network fails or a gateway gives up. The body carries the
  // same idempotency key, so a retry of a message that did arrive returns the first reply.
  function fetchWithRetry(url, options) {
    return fetch(url, options).then(
      function (response) {
        if (response.status !== 502 && response.status !== 503 && response.status !== 504) return response;
        return sleep(1000).then(function () {
          return fetch(url, options);
        });
      },
      function () {
        return sleep(1000).then(function () {
          return fetch(url, options);
        });
      }
    );
  }

  function errorDetail(response) {
    return response.json().then(
      function (body) {
        return body && typeof body.detail === "string" ? body.detail : "error " + response.status;
      },
      function () {
        return "error " + response.status;
      }
    );
  }

  function ensureConversation() {
    if (state.id) return Promise.resolve(state.id);
    if (!state.creating) {
      state.creating = fetchWithRetry(API + "/conversations", { method: "POST", credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("could not start a conversation (" + response.status + ")");
          return response.json();
        })
        .then(function (body) {
          state.id = body.id;
          state.disclosure = body.disclosure || "";
          state.lastId = 0;
          save();
          showNotice();
          poll();
          return state.id;
        })
        .finally(function () {
          state.creating = null;
        });
    }
    return state.creating;
  }

  function messagesUrl() {
    return API + "/conversations/" + encodeURIComponent(state.id) + "/messages";
  }

  function postMessage(text, key) {
    return fetchWithRetry(messagesUrl(), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ text: text, idempotency_key: key }),
    });
  }

  // Send through the streaming endpoint, growing `bubble` with each delta. Resolves with the `done`
  // body, or null when the stream failed before it (refused, cut off, or an `error` event).
  function streamMessage(text, key, bubble) {
    if (!CAN_STREAM) return Promise.resolve(null);
    return fetch(messagesUrl() + "/stream", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key, Accept: "text/event-stream" },
      body: JSON.stringify({ text: text, idempotency_key: key }),
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || !response.body || type.indexOf("text/event-stream") !== 0) {
          if (response.body) response.body.cancel().catch(function () {});
          return null;
        }
        return readEvents(response.body.getReader(), bubble);
      })
      .catch(function () {
        return null;
      });
  }

  // Parse server-sent events ("event:" and "data:" lines, blank line between events).
  function readEvents(reader, bubble) {
    var decoder = new TextDecoder();
    var buffer = "";
    var carriage = false; // a chunk ended in "\r": its "\n" may start the next one

    function handle(block) {
      var name = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      });
      if (!data.length) return null;
      var body = JSON.parse(data.join("\n"));
      if (name === "delta" && typeof body.text === "string") growBubble(bubble, body.text);
      else if (name === "done" && body && typeof body.reply === "string") return body;
      else if (name === "error") throw new Error("stream error: " + (body && body.detail));
      return null;
    }

    function take(text) {
      if (carriage && text.charAt(0) === "\n") text = text.slice(1);
      carriage = text.slice(-1) === "\r";
      buffer += text.replace(/\r\n?/g, "\n");
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        var done = handle(block);
        if (done) return done;
      }
      return null;
    }

    function next() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return take(decoder.decode()); // an unfinished last event is dropped, as in SSE
        var done = take(decoder.decode(chunk.value, { stream: true }));
        if (!done) return next();
        reader.cancel().catch(function () {});
        return done;
      });
    }

    return next().catch(function (error) {
      reader.cancel().catch(function () {});
      throw error;
    });
  }

  function deliver(text, key, entry) {
    setStatus("Sending\u2026");
    log.setAttribute("aria-busy", "true");
    var bubble = replyBubble();
    return ensureConversation()
      .then(function () {
        return streamMessage(text, key, bubble);
      })
      .then(function (body) {
        if (body) {
          setStatus("");
          showReply(bubble, body);
          return null;
        }
        // Streaming failed before the final reply: send again, the plain way, with the same key
        // (a message the desk already answered gets that answer back, not a second one).
        return deliverPlain(text, key, entry, bubble);
      })
      .catch(function () {
        if (markFailed(entry, text, key) && !input.value) input.value = text;
        setStatus("We could not reach customer service. Check your connection and send again.");
      })
      .then(function () {
        dropBubble(bubble); // a partly streamed reply that never completed
        log.removeAttribute("aria-busy");
      });
  }

  function deliverPlain(text, key, entry, bubble) {
    return postMessage(text, key)
      .then(function (response) {
        if (response.status !== 404) return response;
        forget(); // the desk no longer knows this conversation: start a new one, send again
        return ensureConversation().then(function () {
          return postMessage(text, key);
        });
      })
      .then(function (response) {
        if (response.ok) {
          return response.json().then(function (body) {
            setStatus("");
            showReply(bubble, body);
          });
        }
        if (markFailed(entry, text, key) && !input.value) input.value = text;
        if (response.status === 429) {
          setStatus("You are sending messages quickly. Please wait " + retryAfter(response) + " seconds, then send again.");
          return null;
        }
        if (response.status === 413) {
          setStatus("That message is too long to send here. Please shorten it.");
          return null;
        }
        return errorDetail(response).then(function (detail) {
          setStatus("Your message was not sent: " + detail);
        });
      });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) return state.queue;
    var entry = render({ id: null, from: "customer", author: null, text: text });
    var key = newKey();
    // Messages go out one at a time, in the order they were typed.
    state.queue = state.queue.then(function () {
      return deliver(text, key, entry);
    });
    return state.queue;
  }

  // Long poll for staff replies (and any assistant message not yet shown), in the background.
  function poll() {
    if (state.polling || !state.id) return;
    state.polling = true;
    var delay = 0;
    var stopped = false;
    (function next() {
      state.pollWake = null;
      var id = state.id;
      if (!id) {
        state.polling = false;
        return;
      }
      var url = API + "/conversations/" + encodeURIComponent(id) + "/messages?after=" + state.lastId + "&wait=" + POLL_WAIT_SECONDS;
      fetch(url, { credentials: "same-origin", cache: "no-store", signal: state.abort ? state.abort.signal : undefined })
        .then(function (response) {
          if (id !== state.id) return;
          if (response.status === 404) {
            forget();
            return;
          }
          if (response.status === 429) {
            delay = retryAfter(response) * 1000;
            return;
          }
          if (!response.ok) throw new Error("poll failed");
          return response.json().then(function (body) {
            (body.messages || []).forEach(function (m) {
              if (m.reply_to_key) {
                state.answered[m.reply_to_key] = true;
                if (state.unsent[m.reply_to_key]) state.unsent[m.reply_to_key]();
              }
              render({ id: m.id, from: m.from, author: m.author, text: m.text });
              state.lastId = Math.max(state.lastId, m.id);
            });
            state.lastId = Math.max(state.lastId, Number(body.last_id) || 0);
            save();
            delay = 0;
          });
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") {
            stopped = true; // the page is going away
            return;
          }
          delay = Math.min(30000, delay ? delay * 2 : 2000);
        })
        .then(function () {
          if (stopped || !state.id || (state.abort && state.abort.signal.aborted)) {
            state.polling = false;
            return;
          }
          var timer = setTimeout(next, delay);
          // Back online after a failure: ask at once instead of waiting out the back-off (up to 30 s).
          state.pollWake = delay > 0 ? function () {
            clearTimeout(timer);
            delay = 0;
            next();
          } : null;
        });
    })();
  }

  // ---- opening, closing, keyboard ----------------------------------------------------------------

  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    state.unread = 0;
    badge.hidden = true;
    log.scrollTop = log.scrollHeight;
    input.focus();
    ensureConversation().catch(function () {
      setStatus("We could not reach customer service. You can still type; we will try again when you send.");
    });
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) openPanel();
    else closePanel();
  });
  closeButton.addEventListener("click", closePanel);
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      closePanel();
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    input.value = "";
    send(text);
    input.focus();
  });
  var handoffPending = false; // a double click asks for a person once
  humanButton.addEventListener("click", function () {
    if (handoffPending) return;
    handoffPending = true;
    humanButton.setAttribute("aria-disabled", "true");
    send(HANDOFF_TEXT).then(function () {
      handoffPending = false;
      humanButton.removeAttribute("aria-disabled");
    });
  });
  window.addEventListener("online", function () {
    if (state.pollWake) state.pollWake();
  });
  window.addEventListener("pagehide", function () {
    if (state.abort) state.abort.abort();
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted || typeof AbortController !== "function") return;
    state.abort = new AbortController(); // back from the back/forward cache: resume polling
    poll();
  });

  function start() {
    loadStylesheet();
    document.body.appendChild(root);
    restore();
    showNotice();
    poll();
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
