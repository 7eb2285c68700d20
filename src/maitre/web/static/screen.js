// Live feed for a staff screen: resumes after a drop from the last sequence number it showed.
"use strict";
(function () {
  const role = document.body.dataset.role;
  const params = new URLSearchParams(location.search);
  const venue = params.get("venue") || "bistro";
  const list = document.getElementById("alerts");
  const conn = document.getElementById("conn");
  document.getElementById("venue").textContent = venue;
  let lastSeq = 0;
  let retry = 500;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);  // never markup
    return e;
  }

  function render(a) {
    const p = a.payload || {};
    const card = el("article", "card " + a.kind);
    card.dataset.seq = a.seq;
    card.dataset.kind = a.kind;
    card.appendChild(el("span", "seq", "#" + a.seq));
    if (a.kind === "greet") {
      card.appendChild(el("div", "name", "Welcome, " + p.name));
      if (p.pronunciation) card.appendChild(el("div", "pron", "say: " + p.pronunciation));
      card.appendChild(el("div", "meta", "Party of " + p.party_size + (p.occasion ? " · " + p.occasion : "")));
      if (p.notes) card.appendChild(el("div", "meta", p.notes));
    } else if (a.kind === "approaching") {
      card.appendChild(el("div", "name", p.name));
      card.appendChild(el("div", "meta", "approaching · party of " + p.party_size + " · ~" + p.distance_m + " m"));
    } else if (a.kind === "kitchen_start") {
      card.appendChild(el("div", "name", p.party + " · " + p.party_size));
      const ul = el("ul");
      (p.items || []).forEach(function (i) {
        const mods = (i.modifiers || []).length ? " (" + i.modifiers.join(", ") + ")" : "";
        ul.appendChild(el("li", null, i.quantity + "× " + i.name + mods));
      });
      card.appendChild(ul);
    }
    const flags = el("div", "flags");
    (p.allergies || []).forEach(function (x) { flags.appendChild(el("span", "allergy", "⚠ " + x)); });
    (p.dietary || []).forEach(function (x) { flags.appendChild(el("span", "diet", x)); });
    if (flags.childNodes.length) card.appendChild(flags);
    return card;
  }

  function show(a) {
    if (a.seq <= lastSeq) return;  // already shown: exactly once, even across reconnects
    lastSeq = a.seq;
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    list.insertBefore(render(a), list.firstChild);
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/ws/" + encodeURIComponent(venue) + "/" + role + "?since=" + lastSeq);
    ws.onopen = function () { conn.textContent = "live"; conn.className = "online"; retry = 500; };
    ws.onmessage = function (ev) {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "alert") show(msg);
    };
    ws.onclose = function () {
      conn.textContent = "offline — reconnecting"; conn.className = "offline";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  }
  connect();
})();
