/* Confide chat widget. Embed it with
 *   <script src="https://HOST/widget.js" data-widget-key="cfw_…" data-language="de" defer></script>
 * Optional: data-open="true" opens the panel on load; data-server="https://HOST" when the script is
 * served from elsewhere. Plain JavaScript without a build step; it speaks the frame protocol of
 * docs/protocol.md. The visitor token, the conversation id, the last seq and messages not yet
 * acknowledged are kept in localStorage (Confide sets no cookies). Message text only ever reaches the
 * page through textContent. */
(() => {
  "use strict";

  const script = document.currentScript || document.querySelector("script[data-widget-key]");
  if (!script || window.__confideWidget) return;
  const widgetKey = (script.dataset.widgetKey || "").trim();
  if (!/^cfw_[A-Za-z0-9_-]{1,60}$/.test(widgetKey)) {
    console.warn("Confide widget: data-widget-key is missing or malformed.");
    return;
  }
  window.__confideWidget = true;

  const server = new URL(script.dataset.server || script.src || location.href, location.href);
  const socketUrl = `${server.protocol === "https:" ? "wss:" : "ws:"}//${server.host}/v1/widget/${encodeURIComponent(widgetKey)}/chat`;
  const language = (script.dataset.language || document.documentElement.lang || navigator.language || "en").trim().slice(0, 35);

  // ---- Texts --------------------------------------------------------------------------------

  const TEXTS = {
    en: {
      open: "Open chat", close: "Close chat", chat: "Chat", messages: "Messages", label: "Your message",
      placeholder: "Write a message…", send: "Send", you: "You", team: "Team", notice: "Notice",
      connecting: "Connecting…", reconnecting: "Connection lost. Reconnecting…",
      offline: "You are offline. Your messages are sent when you are back online.",
      idle: "The chat was paused. Write a message to continue.",
      sending: "sending…", notSent: "not sent", writing: "{name} is writing…", teamWriting: "A person from the team is writing…",
      waiting: "Waiting for a person from the team…", withPerson: "You are chatting with a person from the team.",
      handoff: "A person from the team will answer here.", operatorJoined: "A person from the team joined the chat.",
      operatorLeft: "The AI assistant is back in the chat.", closed: "The chat has ended.", reopened: "The chat was reopened.",
      rateQuestion: "How helpful was this chat?", star: "{n} of 5", rated: "Thank you for your rating.",
      end: "End chat", newChat: "Start a new chat", unavailable: "The chat is not available right now.", unread: "{n} new",
      erased: "This chat was deleted at the business's request.",
    },
    de: {
      open: "Chat öffnen", close: "Chat schließen", chat: "Chat", messages: "Nachrichten", label: "Ihre Nachricht",
      placeholder: "Nachricht schreiben…", send: "Senden", you: "Sie", team: "Team", notice: "Hinweis",
      connecting: "Verbinde…", reconnecting: "Verbindung unterbrochen. Verbinde neu…",
      offline: "Sie sind offline. Ihre Nachrichten werden gesendet, sobald Sie wieder online sind.",
      idle: "Der Chat wurde pausiert. Schreiben Sie eine Nachricht, um fortzufahren.",
      sending: "wird gesendet…", notSent: "nicht gesendet", writing: "{name} schreibt…", teamWriting: "Eine Person aus dem Team schreibt…",
      waiting: "Sie warten auf eine Person aus dem Team…", withPerson: "Sie chatten mit einer Person aus dem Team.",
      handoff: "Eine Person aus dem Team antwortet hier.", operatorJoined: "Eine Person aus dem Team ist dem Chat beigetreten.",
      operatorLeft: "Der KI-Assistent ist wieder im Chat.", closed: "Der Chat wurde beendet.", reopened: "Der Chat wurde wieder geöffnet.",
      rateQuestion: "Wie hilfreich war dieser Chat?", star: "{n} von 5", rated: "Danke für Ihre Bewertung.",
      end: "Chat beenden", newChat: "Neuen Chat beginnen", unavailable: "Der Chat ist gerade nicht verfügbar.", unread: "{n} neu",
      erased: "Dieser Chat wurde auf Wunsch des Unternehmens gelöscht.",
    },
  };
  let texts = TEXTS[language.split("-")[0].toLowerCase()] || TEXTS.en;
  const t = (name, values = {}) => texts[name].replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));

  // ---- Storage (localStorage only; a page that forbids it gets memory) -----------------------

  const storeKey = `confide:widget:${widgetKey}`;
  const memory = {};
  const storage = {
    load() {
      try {
        return JSON.parse(localStorage.getItem(storeKey) || "{}") || {};
      } catch {
        return { ...memory };
      }
    },
    save(value) {
      Object.assign(memory, value);
      try {
        localStorage.setItem(storeKey, JSON.stringify(value));
      } catch {
        /* storage disabled: keep it in memory for this page */
      }
    },
    forget() {
      for (const name of Object.keys(memory)) delete memory[name];
      try {
        localStorage.removeItem(storeKey);
      } catch {
        /* storage disabled: nothing was kept there */
      }
    },
  };

  const saved = storage.load();
  let visitorToken = typeof saved.visitor_token === "string" ? saved.visitor_token : null;
  let conversationId = typeof saved.conversation_id === "string" ? saved.conversation_id : null;
  let lastSeq = Number.isInteger(saved.last_seq) ? saved.last_seq : 0;
  const seenAtLoad = { conversation: conversationId, seq: lastSeq }; // replayed history up to here is not "new"
  const outbox = new Map(Array.isArray(saved.outbox) ? saved.outbox.filter((m) => m && m.id && m.text).map((m) => [m.id, m.text]) : []);

  function persist() {
    storage.save({
      visitor_token: visitorToken,
      conversation_id: conversationId,
      last_seq: lastSeq,
      outbox: [...outbox].map(([id, text]) => ({ id, text })),
    });
  }

  // ---- DOM ----------------------------------------------------------------------------------

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === false || value == null) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    if (text != null) node.textContent = text;
    return node;
  }

  const CSS = `
    :host { all: initial; }
    * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    [hidden] { display: none !important; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    .bubble { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
      background: var(--accent); color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483000; }
    .bubble svg { width: 28px; height: 28px; fill: currentColor; }
    .badge { position: absolute; top: -4px; right: -4px; min-width: 20px; padding: 2px 6px; border-radius: 10px;
      background: #c92a2a; color: #fff; font-size: 12px; font-weight: 600; }
    .panel { position: fixed; right: 20px; bottom: 88px; width: min(380px, calc(100vw - 24px)); height: min(560px, calc(100vh - 110px));
      display: flex; flex-direction: column; background: #fff; color: #1a1a1a; border-radius: 12px; overflow: hidden;
      box-shadow: 0 8px 30px rgba(0,0,0,.3); z-index: 2147483000; font-size: 15px; line-height: 1.4; }
    header { display: flex; align-items: center; gap: 10px; padding: 10px 12px; background: var(--accent); color: #fff; }
    header img { width: 32px; height: 32px; border-radius: 50%; object-fit: cover; background: #fff; }
    header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; }
    header button { border: 0; background: transparent; color: #fff; font-size: 22px; line-height: 1; cursor: pointer; padding: 4px 8px; border-radius: 6px; }
    .disclosure { margin: 0; padding: 8px 12px; background: #fff8db; color: #5c4400; font-size: 13px; border-bottom: 1px solid #f0e2a8; }
    .log { flex: 1; overflow-y: auto; margin: 0; padding: 12px; list-style: none; display: flex; flex-direction: column; gap: 8px; }
    .msg { max-width: 85%; padding: 8px 10px; border-radius: 10px; background: #f1f3f5; white-space: pre-wrap; overflow-wrap: anywhere; }
    .msg .who { display: block; font-size: 11px; font-weight: 600; opacity: .7; margin-bottom: 2px; }
    .msg .state { display: block; font-size: 11px; opacity: .7; margin-top: 2px; }
    .msg.visitor { align-self: flex-end; background: var(--accent); color: #fff; }
    .msg.operator { background: #e6fcf5; }
    .msg.failed { background: #ffe3e3; color: #862e2e; }
    .msg.event { align-self: center; background: transparent; color: #555; font-size: 13px; text-align: center; }
    .msg.streaming { opacity: .85; }
    .status { margin: 0; padding: 0 12px; min-height: 20px; font-size: 12px; color: #555; }
    .error { margin: 0 12px 4px; padding: 6px 8px; border-radius: 6px; background: #ffe3e3; color: #862e2e; font-size: 13px; }
    .rating { padding: 8px 12px; border-top: 1px solid #eee; }
    .rating p { margin: 0 0 6px; font-size: 14px; }
    .rating button { width: 36px; height: 36px; margin-right: 4px; border: 1px solid #ccc; border-radius: 6px; background: #fff; cursor: pointer; font-size: 15px; }
    form { display: flex; gap: 8px; padding: 10px 12px; border-top: 1px solid #eee; }
    textarea { flex: 1; resize: none; padding: 8px; border: 1px solid #ccc; border-radius: 8px; font-size: 15px; }
    form button, .actions button { border: 0; border-radius: 8px; padding: 0 14px; background: var(--accent); color: #fff; font-size: 14px; cursor: pointer; }
    form button:disabled, textarea:disabled { opacity: .5; cursor: default; }
    .actions { display: flex; justify-content: flex-end; padding: 0 12px 10px; }
    .actions button { padding: 6px 10px; background: transparent; color: #444; text-decoration: underline; }
    button:focus-visible, textarea:focus-visible { outline: 3px solid #ffd43b; outline-offset: 2px; }
  `;

  const host = el("div", { id: "confide-widget" });
  const root = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el("style", {}, CSS));
  }
  host.style.setProperty("--accent", "#3b5bdb");

  const bubble = el("button", { class: "bubble", type: "button", "aria-expanded": "false", "aria-controls": "confide-panel", "aria-label": t("open") });
  const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z");
  icon.append(path);
  const badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
  bubble.append(icon, badge);

  const panel = el("section", { class: "panel", id: "confide-panel", role: "dialog", "aria-labelledby": "confide-title", hidden: true });
  const portrait = el("img", { alt: "", hidden: true, referrerpolicy: "no-referrer" });
  const title = el("h2", { id: "confide-title" }, t("chat"));
  const closeButton = el("button", { type: "button", "aria-label": t("close") }, "×");
  const header = el("header");
  header.append(portrait, title, closeButton);
  const disclosure = el("p", { class: "disclosure", role: "note", hidden: true });
  const log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": t("messages"), tabindex: "0" });
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const errorLine = el("p", { class: "error", role: "alert", hidden: true });
  const rating = el("div", { class: "rating", role: "group", "aria-labelledby": "confide-rate", hidden: true });
  const ratingQuestion = el("p", { id: "confide-rate" }, t("rateQuestion"));
  const ratingButtons = el("div");
  for (let n = 1; n <= 5; n += 1) {
    const button = el("button", { type: "button", "aria-label": t("star", { n }) }, String(n));
    button.addEventListener("click", () => rate(n));
    ratingButtons.append(button);
  }
  rating.append(ratingQuestion, ratingButtons);
  const form = el("form");
  const inputLabel = el("label", { class: "sr", for: "confide-input" }, t("label"));
  const input = el("textarea", { id: "confide-input", rows: "2", maxlength: "4000", placeholder: t("placeholder") });
  const sendButton = el("button", { type: "submit" }, t("send"));
  form.append(inputLabel, input, sendButton);
  const actions = el("div", { class: "actions" });
  const endButton = el("button", { type: "button" }, t("end"));
  const newButton = el("button", { type: "button", hidden: true }, t("newChat"));
  actions.append(endButton, newButton);
  panel.append(header, disclosure, log, status, errorLine, rating, form, actions);
  root.append(bubble, panel);

  // ---- State --------------------------------------------------------------------------------

  let socket = null;
  let socketReady = false; // after welcome
  let attempt = 0;
  let reconnectTimer = 0;
  let pingTimer = 0;
  let pausedUntil = 0;
  let stopped = false; // refused for good (unknown key, origin not allowed, …)
  let idle = false; // closed after a long silence: reconnect when the person comes back
  let refusals = 0; // 4401s in a row: after forgetting conversation and token, give up
  let lastProblem = ""; // the slug of the last error frame (a refusal names its reason before closing)

  // ---- Conversation and rendering -----------------------------------------------------------

  let avatarName = "";
  let conversationStatus = "avatar";
  let shownConversation = null; // the conversation whose messages the log holds
  const bySeq = new Map(); // seq -> list item
  const byClientId = new Map(); // client_message_id -> list item of the visitor's message
  const streaming = new Map(); // reply_to -> list item being streamed
  let typingText = "";
  let unread = 0;

  function authorLabel(author) {
    return { visitor: t("you"), avatar: avatarName || t("chat"), operator: t("team") }[author] || t("notice");
  }

  function place(item, seq) {
    // Messages stand in seq order; those without a seq yet (sending, streaming) stay at the end.
    if (seq != null) item.dataset.seq = String(seq);
    const mine = item.dataset.seq ? Number(item.dataset.seq) : Infinity;
    let before = null;
    for (const child of log.children) {
      if (child === item) continue;
      const other = child.dataset.seq ? Number(child.dataset.seq) : Infinity;
      if (other > mine) {
        before = child;
        break;
      }
    }
    if (item.parentNode !== log || item.nextSibling !== before) log.insertBefore(item, before);
    log.scrollTop = log.scrollHeight;
  }

  function messageItem(author, text, { seq = null, time = null, kind = "message" } = {}) {
    const item = el("li", { class: `msg ${kind === "event" ? "event" : author}` });
    if (kind !== "event") item.append(el("span", { class: "who" }, authorLabel(author)));
    item.append(el("span", { class: "text" }, text));
    if (time) {
      const when = new Date(time);
      if (!Number.isNaN(when.getTime())) {
        const stamp = el("time", { class: "sr", datetime: when.toISOString() }, when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
        item.append(stamp);
      }
    }
    place(item, seq);
    if (seq != null) bySeq.set(seq, item);
    return item;
  }

  function setState(item, text) {
    let state = item.querySelector(".state");
    if (!text) {
      if (state) state.remove();
      return;
    }
    if (!state) item.append((state = el("span", { class: "state" })));
    state.textContent = text;
  }

  function clearLog() {
    log.replaceChildren();
    bySeq.clear();
    byClientId.clear();
    streaming.clear();
    rating.hidden = true;
  }

  function countUnread(seq) {
    if (!panel.hidden || seq == null) return;
    if (shownConversation === seenAtLoad.conversation && seq <= seenAtLoad.seq) return;
    unread += 1;
    badge.textContent = String(unread);
    badge.hidden = false;
    bubble.setAttribute("aria-label", `${t("open")}, ${t("unread", { n: unread })}`);
  }

  function noteSeq(seq) {
    if (Number.isInteger(seq) && seq > lastSeq) {
      lastSeq = seq;
      persist();
    }
  }

  function dropStreaming() {
    for (const item of streaming.values()) item.remove();
    streaming.clear();
  }

  function refreshStatus() {
    if (!socketReady) return; // connection texts take precedence while they apply
    if (typingText) status.textContent = typingText;
    else if (conversationStatus === "waiting") status.textContent = t("waiting");
    else if (conversationStatus === "operator") status.textContent = t("withPerson");
    else status.textContent = "";
  }

  function setTyping(text) {
    typingText = text;
    clearTimeout(setTyping.timer);
    if (text) setTyping.timer = setTimeout(() => setTyping(""), 30000);
    refreshStatus();
  }

  function setConversationStatus(value) {
    conversationStatus = value;
    const closed = value === "closed";
    input.disabled = closed;
    sendButton.disabled = closed;
    endButton.hidden = closed;
    newButton.hidden = !closed;
    refreshStatus();
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  // ---- Frames from the server ---------------------------------------------------------------

  const EVENT_TEXT = { handoff: "handoff", operator_joined: "operatorJoined", operator_left: "operatorLeft", closed: "closed", reopened: "reopened", rating: "rated" };
  const EVENT_STATUS = { handoff: "waiting", operator_joined: "operator", operator_left: "avatar", closed: "closed", reopened: "avatar" };

  function onFrame(frame) {
    if (!frame || typeof frame.type !== "string") return;
    switch (frame.type) {
      case "welcome": return onWelcome(frame);
      case "message": return onMessage(frame);
      case "delta": return onDelta(frame);
      case "ack": return onAck(frame);
      case "typing": return onTyping(frame);
      case "rating_request": return showRating();
      case "error": return onError(frame.problem || {});
      case "pong": return undefined;
      default:
        if (Object.hasOwn(EVENT_TEXT, frame.type)) return onEvent(frame);
        return noteSeq(frame.seq); // a frame type this version does not show
    }
  }

  function onWelcome(frame) {
    socketReady = true;
    attempt = 0;
    refusals = 0;
    if (frame.visitor_token) visitorToken = frame.visitor_token;
    if (frame.conversation_id !== shownConversation) {
      clearLog(); // a fresh page, or the old conversation was closed and this is a new one
      if (frame.conversation_id !== conversationId) lastSeq = 0;
      shownConversation = frame.conversation_id;
    }
    conversationId = frame.conversation_id;
    if (typeof frame.language === "string") texts = TEXTS[frame.language.split("-")[0].toLowerCase()] || texts;
    const avatar = frame.avatar || {};
    avatarName = typeof avatar.name === "string" ? avatar.name : "";
    title.textContent = avatarName || t("chat");
    const look = avatar.appearance || {};
    if (/^#[0-9a-fA-F]{6}$/.test(look.accent_color || "")) host.style.setProperty("--accent", look.accent_color);
    if (typeof look.image_url === "string" && look.image_url.startsWith("https://")) {
      portrait.src = look.image_url;
      portrait.hidden = false;
    }
    disclosure.textContent = frame.disclosure || "";
    disclosure.hidden = !frame.disclosure;
    const limit = frame.limits && frame.limits.max_message_chars;
    if (Number.isInteger(limit)) input.maxLength = limit;
    showError("");
    status.textContent = "";
    setConversationStatus(frame.status || "avatar");
    persist();
    flushOutbox();
    keepAlive();
  }

  function onMessage(frame) {
    noteSeq(frame.seq);
    if (frame.author === "visitor" && frame.client_message_id) {
      acknowledged(frame.client_message_id, frame.seq);
      if (byClientId.has(frame.client_message_id)) return;
    }
    if (bySeq.has(frame.seq)) return;
    if (frame.author === "avatar") {
      dropStreaming();
      setTyping("");
    }
    if (frame.author === "operator") setTyping("");
    const item = messageItem(frame.author, String(frame.text ?? ""), { seq: frame.seq, time: frame.time });
    if (frame.author === "visitor" && frame.client_message_id) byClientId.set(frame.client_message_id, item);
    if (frame.author !== "visitor") countUnread(frame.seq);
  }

  function onDelta(frame) {
    if (conversationStatus !== "avatar") return; // a reply overtaken by a take-over or a close is never finished
    setTyping("");
    let item = streaming.get(frame.reply_to);
    if (!item) {
      // Shown while it streams, hidden from screen readers: the final message is announced once.
      item = el("li", { class: "msg avatar streaming", "aria-hidden": "true" });
      item.append(el("span", { class: "who" }, authorLabel("avatar")), el("span", { class: "text" }));
      streaming.set(frame.reply_to, item);
      place(item, null);
    }
    item.querySelector(".text").textContent += String(frame.text ?? "");
    log.scrollTop = log.scrollHeight;
  }

  function acknowledged(clientId, seq) {
    if (outbox.delete(clientId)) persist();
    const item = byClientId.get(clientId);
    if (!item) return;
    item.classList.remove("failed");
    setState(item, "");
    if (seq != null) {
      place(item, seq);
      bySeq.set(seq, item);
    }
  }

  function onAck(frame) {
    onError.failures = 0;
    noteSeq(frame.seq);
    acknowledged(frame.client_message_id, frame.seq);
    if (!frame.duplicate && conversationStatus === "avatar") setTyping(t("writing", { name: avatarName || t("chat") }));
  }

  function onEvent(frame) {
    noteSeq(frame.seq);
    if (frame.seq != null && bySeq.has(frame.seq)) return;
    if (frame.type === "handoff" || frame.type === "operator_joined" || frame.type === "closed") dropStreaming();
    setTyping("");
    const text = frame.type === "rating" ? t("rated") : frame.text || t(EVENT_TEXT[frame.type]);
    messageItem(frame.author || "system", text, { seq: frame.seq, time: frame.time, kind: "event" });
    if (Object.hasOwn(EVENT_STATUS, frame.type)) setConversationStatus(EVENT_STATUS[frame.type]);
    if (frame.type === "closed") {
      conversationId = null; // the next visit starts a new conversation; this page keeps showing the old one
      persist();
    } else if (frame.type === "reopened") {
      conversationId = shownConversation;
      persist();
    }
    if (frame.type !== "rating") countUnread(frame.seq);
  }

  function onTyping(frame) {
    if (frame.author === "visitor") return;
    if (!frame.active) return setTyping("");
    setTyping(frame.author === "operator" ? t("teamWriting") : t("writing", { name: avatarName || t("chat") }));
  }

  function showRating() {
    for (const button of ratingButtons.children) button.disabled = false;
    ratingQuestion.textContent = t("rateQuestion");
    rating.hidden = false;
  }

  function rate(score) {
    if (!send({ type: "rating", score })) return;
    for (const button of ratingButtons.children) button.disabled = true;
    rating.hidden = true;
  }

  function onError(problem) {
    const slug = String(problem.type || "").split("/").pop();
    lastProblem = slug;
    showError(problem.detail || problem.title || t("unavailable"));
    if (slug === "rate-limited") {
      const wait = Math.max(1, Number(problem.retry_after) || 5);
      pausedUntil = Date.now() + wait * 1000;
      clearTimeout(onError.retry);
      onError.retry = setTimeout(flushOutbox, wait * 1000);
    } else if (slug === "frame-failed") {
      // A message without its ack may or may not be stored: sent again (same id) after a growing back-off, it is
      // stored once and answered once (a duplicate ack if it was stored).
      onError.failures = (onError.failures || 0) + 1;
      const wait = Math.min(30, 2 ** Math.min(onError.failures, 5));
      clearTimeout(onError.retry);
      onError.retry = setTimeout(flushOutbox, wait * 1000);
    } else if (["message-too-long", "frame-too-large", "invalid-frame"].includes(slug)) {
      // The server answers frames in order, so the oldest unacknowledged message is the one refused.
      const [oldest] = outbox.keys();
      if (oldest === undefined) return;
      outbox.delete(oldest);
      persist();
      const item = byClientId.get(oldest);
      if (item) {
        item.classList.add("failed");
        setState(item, t("notSent"));
      }
    }
  }

  // ---- The connection -----------------------------------------------------------------------

  function send(frame) {
    if (!socket || !socketReady || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    if (socket || stopped || !navigator.onLine) {
      if (!navigator.onLine) status.textContent = t("offline");
      return;
    }
    clearTimeout(reconnectTimer);
    idle = false;
    lastProblem = "";
    status.textContent = attempt ? t("reconnecting") : t("connecting");
    const ws = new WebSocket(socketUrl);
    socket = ws;
    ws.addEventListener("open", () => {
      const hello = { type: "hello", language };
      if (visitorToken) hello.visitor_token = visitorToken;
      // A page that already shows this conversation asks only for what it missed; a fresh page for all of it.
      if (conversationId) hello.resume = { conversation_id: conversationId, last_seq: shownConversation === conversationId ? lastSeq : 0 };
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return; // closed on purpose
      socket = null;
      socketReady = false;
      clearInterval(pingTimer);
      dropStreaming();
      setTyping("");
      onClosed(event.code);
    });
  }

  function onClosed(code) {
    if (code === 4410) {
      // The business erased this conversation: forget it, the token that named this visitor and any unsent text.
      visitorToken = null;
      conversationId = null;
      shownConversation = null;
      lastSeq = 0;
      outbox.clear();
      storage.forget();
      clearLog();
      setConversationStatus("closed"); // "Start a new chat" begins afresh, as a new visitor
      status.textContent = t("erased");
      return undefined;
    }
    if (code === 4401 && refusals < 2) {
      // The conversation is not this visitor's, or the token itself is forged or expired: forget what was refused.
      refusals += 1;
      if (lastProblem !== "conversation-not-yours") visitorToken = null;
      conversationId = null;
      persist();
      return connect();
    }
    if (code === 4403 || code === 4404 || code === 4400 || code === 4503 || code === 4401) {
      stopped = true;
      status.textContent = t("unavailable");
      input.disabled = true;
      sendButton.disabled = true;
      return;
    }
    if (conversationStatus === "closed") {
      status.textContent = ""; // nothing more will come; "Start a new chat" connects again
      return undefined;
    }
    if (code === 4408) {
      idle = true;
      status.textContent = t("idle");
      return undefined;
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    status.textContent = navigator.onLine ? t("reconnecting") : t("offline");
    if (!navigator.onLine) return; // the online event reconnects
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
    attempt += 1;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  function flushOutbox() {
    if (Date.now() < pausedUntil) return;
    for (const [id, text] of outbox) {
      if (!byClientId.has(id)) {
        const item = messageItem("visitor", text);
        byClientId.set(id, item);
        setState(item, t("sending"));
      }
      if (!send({ type: "message", client_message_id: id, text })) return;
    }
  }

  function keepAlive() {
    // Pings only while someone looks at the open panel; otherwise the server's idle timeout may close it.
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (!panel.hidden && document.visibilityState === "visible") send({ type: "ping" });
    }, 45000);
  }

  function newId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return `w-${Date.now().toString(36)}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  // ---- What the person does -----------------------------------------------------------------

  let typingSentAt = 0;
  let typingStop = 0;

  function submit() {
    const text = input.value.trim();
    if (!text || input.disabled) return;
    input.value = "";
    const id = newId();
    outbox.set(id, text);
    persist();
    const item = messageItem("visitor", text);
    byClientId.set(id, item);
    setState(item, t("sending"));
    clearTimeout(typingStop);
    typingSentAt = 0;
    if (Date.now() >= pausedUntil && !send({ type: "message", client_message_id: id, text })) connect();
    input.focus();
  }

  function typing() {
    const now = Date.now();
    if (now - typingSentAt > 3000 && send({ type: "typing", active: true })) typingSentAt = now;
    clearTimeout(typingStop);
    typingStop = setTimeout(() => {
      if (typingSentAt) send({ type: "typing", active: false });
      typingSentAt = 0;
    }, 4000);
  }

  function open() {
    panel.hidden = false;
    bubble.setAttribute("aria-expanded", "true");
    bubble.setAttribute("aria-label", t("close"));
    unread = 0;
    badge.hidden = true;
    if (!socket) connect();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    bubble.setAttribute("aria-expanded", "false");
    bubble.setAttribute("aria-label", t("open"));
    bubble.focus();
  }

  function startNewChat() {
    const old = socket;
    socket = null;
    socketReady = false;
    if (old) old.close(1000);
    conversationId = null;
    shownConversation = null;
    lastSeq = 0;
    persist();
    clearLog();
    setConversationStatus("avatar");
    connect();
    input.focus();
  }

  bubble.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", typing);
  endButton.addEventListener("click", () => send({ type: "end" }));
  newButton.addEventListener("click", startNewChat);
  window.addEventListener("online", () => {
    attempt = 0;
    if (!socket && (conversationId || !panel.hidden)) connect();
  });
  window.addEventListener("offline", () => {
    status.textContent = t("offline");
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !panel.hidden && !socket && !idle) connect();
  });
  input.addEventListener("focus", () => {
    if (!socket && idle) connect();
  });

  function mount() {
    document.body.append(host);
    if (conversationId || outbox.size) connect(); // resume: replies that came meanwhile show up
    if (script.dataset.open === "true") open();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
