// Host stand: who is approaching, who is at the door (greet cards), and tonight's book.
// Applies events as src/maitre/alerts/boards.py HostBoard does, so every host screen converges.
"use strict";
(function () {
  const M = window.Maitre;
  const el = M.el;
  const FLASH_IF_NEWER_MS = 120000;  // a greeting missed in a drop still flashes if it is this fresh
  const APPROACH_SHOWN_MS = 300000;  // past its ETA by this much, a party that never came drops off
  const STATUS = {
    expected: "expected", approaching: "approaching", partially_arrived: "partly here",
    arrived: "here", seated: "seated", completed: "done", cancelled: "cancelled", no_show: "no-show",
  };
  const SEATABLE = { expected: 1, approaching: 1, partially_arrived: 1, arrived: 1 };
  // Tags from the guest's own history (VIP and the visit count have their own badges).
  const TAG_LABELS = { regular: "Regular", celebrating: "Celebrating" };

  let config = { tables: [] };
  let book = new Map();  // reservation id → row
  let approaching = new Map();  // reservation id → approaching card
  let greets = new Map();  // reservation id → greet card (kept when seated, for undo)
  const fresh = new Map();  // reservation id → when its card started flashing
  const busy = new Set();  // "kind:reservation" actions in flight from this screen

  function card(a) { return Object.assign({}, a.payload, { seq: a.seq, created_at: a.created_at }); }

  function snapshot(msg) {
    config = msg.config;
    book = new Map(msg.reservations.map(function (r) { return [r.id, r]; }));
    approaching = new Map(msg.approaching.map(function (c) { return [c.reservation_id, c]; }));
    greets = new Map(msg.greets.map(function (c) { return [c.reservation_id, c]; }));
    render();
  }

  function event(a) {
    const rid = a.reservation_id;
    const p = a.payload;
    const row = book.get(rid);
    const g = greets.get(rid);
    switch (a.kind) {
      case "approaching":
        approaching.set(rid, card(a));
        if (row) row.status = "approaching";
        break;
      case "greet":
        approaching.delete(rid);
        greets.set(rid, Object.assign(card(a), { acknowledged: false, table: null }));
        if (row) Object.assign(row, { status: p.status, arrived: p.arrived, members: p.members });
        else book.set(rid, { id: rid, name: p.name, party_size: p.party_size, at: p.reservation_at, status: p.status,
                             table: null, arrived: p.arrived, members: p.members, visits: p.visits, vip: p.vip });
        if (M.serverNow() - Date.parse(a.created_at) < FLASH_IF_NEWER_MS) {
          fresh.set(rid, Date.now());
          M.announce();
        }
        break;
      case "party_update":
        approaching.delete(rid);
        if (g) Object.assign(g, { status: p.status, arrived: p.arrived, members: p.members });
        if (row) Object.assign(row, { status: p.status, arrived: p.arrived, members: p.members });
        break;
      case "greet_ack":
        if (g) g.acknowledged = true;
        break;
      case "seat":
        approaching.delete(rid);
        if (g) Object.assign(g, { table: p.table, status: p.status });
        if (row) Object.assign(row, { status: p.status, table: p.table });
        break;
      case "erased":  // the guest erased their data: drop every card of theirs at once
        approaching.delete(rid);
        greets.delete(rid);
        fresh.delete(rid);
        // The event says what changed (status, name, who is left); an older one only whether it cancelled.
        if (row && p.status) Object.assign(row, { name: p.name, members: p.members, arrived: p.arrived, status: p.status });
        else if (row) Object.assign(row, { name: "Guest", members: [], status: p.cancelled ? "cancelled" : row.status });
        break;
      case "undo":
        if (p.action === "greet_ack" && g) g.acknowledged = false;
        if (p.action === "seat") {
          if (g) Object.assign(g, { table: null, status: p.status });
          if (row) Object.assign(row, { status: p.status, table: null });
        }
        break;
    }
    render();
  }

  // -- actions ----------------------------------------------------------------------------------
  async function doAct(kind, rid, extra, done) {
    const key = kind + ":" + rid;
    if (busy.has(key)) return;
    busy.add(key);
    render();
    const ok = await M.act(kind, rid, extra);
    busy.delete(key);
    render();
    if (ok && done) done();
  }

  function nameOf(rid) {
    const g = greets.get(rid);
    const row = book.get(rid);
    return (g && g.name) || (row && row.name) || "party";
  }

  function acknowledge(rid) {
    doAct("greet_ack", rid, null, function () {
      M.say("Greeted " + nameOf(rid), "Undo", function () { doAct("undo", rid); }, 10);
    });
  }

  const dialog = document.getElementById("seat-dialog");
  const tableInput = document.getElementById("seat-table");
  let seating = null;
  function askTable(rid) {
    seating = rid;
    const row = book.get(rid);
    document.getElementById("seat-title").textContent =
      "Seat " + nameOf(rid) + (row ? " · party of " + row.party_size : "");
    const grid = document.getElementById("seat-tables");
    grid.replaceChildren();
    (config.tables || []).forEach(function (t) {
      grid.appendChild(M.button(t, "btn table", function () { seat(t); }));
    });
    tableInput.value = "";
    dialog.showModal();
  }
  function seat(table) {
    const rid = seating;
    const label = String(table).trim();
    if (rid === null || !label) return;
    dialog.close();
    seating = null;
    doAct("seat", rid, { table: label }, function () {
      M.say("Seated " + nameOf(rid) + " at " + label, "Undo", function () { doAct("undo", rid); }, 10);
    });
  }
  document.getElementById("seat-go").addEventListener("click", function () { seat(tableInput.value); });
  tableInput.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); seat(tableInput.value); } });

  // -- rendering ----------------------------------------------------------------------------------
  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"];
    const v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function memberList(c) {
    const ul = el("ul", "members");
    (c.members || []).forEach(function (m) {
      const li = el("li", "member" + (m.arrived ? " here" : "") + (m.name ? "" : " anon"));
      li.textContent = (m.name || "guest") + (m.arrived ? " ✓" : " · not yet");
      ul.appendChild(li);
    });
    const unbanded = c.party_size - (c.members || []).length;
    if (unbanded > 0) ul.appendChild(el("li", "member unbanded", "+" + unbanded + " without band"));
    return ul;
  }

  function flags(c) {
    const div = el("div", "flags");
    (c.allergies || []).forEach(function (x) { div.appendChild(el("span", "allergy", "⚠ " + x)); });
    (c.dietary || []).forEach(function (x) { div.appendChild(el("span", "diet", x)); });
    return div;
  }

  function greetCard(c) {
    const rid = c.reservation_id;
    const art = el("article", "card greet" + (c.acknowledged ? " acked" : "") + (c.vip ? " vip" : ""));
    art.dataset.reservation = rid;
    art.dataset.seq = c.seq;
    const started = fresh.get(rid);
    if (started && Date.now() - started < 6000) {
      art.classList.add("new");
      art.style.animationDelay = -(Date.now() - started) / 1000 + "s";  // keep pulsing across re-renders
    }
    const top = el("div", "top");
    top.appendChild(el("span", "label", c.acknowledged ? "Greeted" : "Welcome"));
    if (c.vip) top.appendChild(el("span", "tag vip", "VIP"));
    top.appendChild(el("span", "tag visits", c.visits ? ordinal(c.visits + 1) + " visit" : "First visit"));
    (c.tags || []).forEach(function (t) {
      if (TAG_LABELS[t]) top.appendChild(el("span", "tag " + t, TAG_LABELS[t]));
    });
    top.appendChild(el("span", "since", "arrived " + M.clock(c.created_at)));
    art.appendChild(top);
    art.appendChild(el("div", "name", c.name));
    if (c.pronunciation) art.appendChild(el("div", "pron", "say “" + c.pronunciation + "”"));
    if (c.suggestion) art.appendChild(el("div", "suggestion", c.suggestion));
    if (c.offer) art.appendChild(el("div", "offer", "Offer: " + c.offer));
    const arrived = c.arrived || 0;
    art.appendChild(el("div", "party", "Party of " + c.party_size + " · " + arrived + " here"));
    art.appendChild(memberList(c));
    if (c.occasion) art.appendChild(el("div", "occasion", c.occasion));
    const f = flags(c);
    if (f.childNodes.length) art.appendChild(f);
    if (c.notes) art.appendChild(el("div", "notes", c.notes));
    const actions = el("div", "actions");
    if (c.acknowledged) {
      actions.appendChild(M.button("Undo greeted", "btn ghost undo", function () { doAct("undo", rid); }));
    } else {
      const ack = M.button("Greeted ✓", "btn primary ack", function () { acknowledge(rid); });
      ack.disabled = busy.has("greet_ack:" + rid);
      actions.appendChild(ack);
    }
    const seatBtn = M.button("Seat…", "btn seat", function () { askTable(rid); });
    seatBtn.disabled = busy.has("seat:" + rid);
    actions.appendChild(seatBtn);
    art.appendChild(actions);
    return art;
  }

  function renderGreets() {
    const open = Array.from(greets.values()).filter(function (c) { return c.table === null; });
    // Unacknowledged first, newest at the top: the party in front of the host right now.
    open.sort(function (a, b) { return (a.acknowledged - b.acknowledged) || (b.seq - a.seq); });
    document.getElementById("greets").replaceChildren.apply(
      document.getElementById("greets"), open.map(greetCard));
    document.getElementById("no-greets").hidden = open.length > 0;
  }

  function renderApproaching() {
    const now = M.serverNow();
    const list = Array.from(approaching.values()).filter(function (c) {
      const row = book.get(c.reservation_id);
      const due = Date.parse(c.created_at) + (c.eta_s || 0) * 1000;
      return (!row || row.status === "approaching") && now - due < APPROACH_SHOWN_MS;
    });
    list.sort(function (a, b) { return a.seq - b.seq; });
    const ol = document.getElementById("approaching");
    ol.replaceChildren.apply(ol, list.map(function (c) {
      const li = el("li", "approach-row");
      li.dataset.reservation = c.reservation_id;
      const left = Math.round((c.eta_s || 0) - (now - Date.parse(c.created_at)) / 1000);
      li.appendChild(el("span", "name", c.name));
      li.appendChild(el("span", "meta", "party of " + c.party_size));
      li.appendChild(el("span", "eta", left > 5 ? "~" + left + " s" : "any moment"));
      li.appendChild(el("span", "conf", Math.round((c.confidence || 0) * 100) + "% sure"));
      return li;
    }));
    document.getElementById("no-approaching").hidden = list.length > 0;
  }

  function renderBook() {
    const rows = Array.from(book.values());
    rows.sort(function (a, b) { return Date.parse(a.at) - Date.parse(b.at) || a.id - b.id; });
    let here = 0;
    let seated = 0;
    const ol = document.getElementById("book");
    ol.replaceChildren.apply(ol, rows.map(function (r) {
      if (r.status === "arrived" || r.status === "partially_arrived") here += 1;
      if (r.status === "seated") seated += 1;
      const li = el("li", "book-row");
      li.dataset.reservation = r.id;
      li.dataset.status = r.status;
      li.appendChild(el("span", "time", M.clock(r.at)));
      const who = el("span", "who", r.name);
      if (r.vip) who.appendChild(el("span", "tag vip", "VIP"));
      li.appendChild(who);
      const banded = (r.members || []).length;
      li.appendChild(el("span", "size", r.arrived && banded ? r.arrived + "/" + r.party_size : String(r.party_size)));
      const label = STATUS[r.status] || r.status;
      li.appendChild(el("span", "status " + r.status, r.status === "seated" && r.table ? label + " · " + r.table : label));
      const rid = r.id;
      if (r.status === "seated") {
        li.appendChild(M.button("Undo", "btn small ghost undo", function () { doAct("undo", rid); }));
      } else if (SEATABLE[r.status]) {
        const b = M.button("Seat", "btn small seat", function () { askTable(rid); });
        b.disabled = busy.has("seat:" + rid);
        li.appendChild(b);
      } else {
        li.appendChild(el("span", "spacer"));
      }
      return li;
    }));
    document.getElementById("counts").textContent =
      "· " + rows.length + " booked · " + here + " here · " + seated + " seated";
  }

  function render() {
    renderGreets();
    renderApproaching();
    renderBook();
  }

  setInterval(renderApproaching, 1000);  // ETAs count down
  M.start({ snapshot: snapshot, event: event });
})();
