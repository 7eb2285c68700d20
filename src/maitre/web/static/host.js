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
  const OPEN = { expected: 1, approaching: 1, partially_arrived: 1 };
  const HERE = { partially_arrived: 1, arrived: 1 };
  const WAITING_UPDATE_MS = 15000;  // how often "waiting 4 min" is brought up to date
  // How sure presence is that it is this party on the way, in words a host uses.
  function sureness(c) {
    if (c >= 0.85) return "almost certainly them";
    if (c >= 0.6) return "probably them";
    return "might be them";
  }
  // Tags from the guest's own history (VIP and the visit count have their own badges).
  const TAG_LABELS = { regular: "Regular", celebrating: "Celebrating" };

  let config = { tables: [] };
  let book = new Map();  // reservation id → row
  let approaching = new Map();  // reservation id → approaching card
  let greets = new Map();  // reservation id → greet card (kept when seated, for undo)
  const fresh = new Map();  // reservation id → when its card started flashing
  const busy = new Set();  // "kind:reservation" actions in flight from this screen
  let toastFor = null;  // {rid, seq}: the party and event the undo toast offers to take back
  let query = "";  // the book's search

  function card(a) { return Object.assign({}, a.payload, { seq: a.seq, created_at: a.created_at }); }

  function snapshot(msg) {
    config = msg.config;
    book = new Map(msg.reservations.map(function (r) { r.lateSeq = r.late_seq; return [r.id, r]; }));
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
      case "booking":
        booking(a, row, g);
        break;
      case "undo":
        if (p.action === "greet_ack" && g) g.acknowledged = false;
        if (p.action === "seat") {
          if (g) Object.assign(g, { table: null, status: p.status });
          if (row) Object.assign(row, { status: p.status, table: null });
        }
        if (p.action === "booking") {
          const size = p.party_size || (row && row.party_size);
          if (g) Object.assign(g, { status: p.status, party_size: size });
          if (row) {
            Object.assign(row, { status: p.status, party_size: size });
            if (row.lateSeq === p.undoes) row.late = false;
            if (row.waiting && row.waiting.ready === p.undoes) row.waiting.ready = 0;
          }
        }
        break;
    }
    if (toastFor && toastFor.rid === rid && a.seq > toastFor.seq) {
      M.hideToast();  // someone changed this party since: the offer to undo is stale
      toastFor = null;
    }
    render();
  }

  // A change made at a stand: arrived by hand, no-show, cancel, late, size, a walk-in, table ready.
  function booking(a, row, g) {
    const p = a.payload;
    if (p.change === "walk_in") {
      book.set(a.reservation_id, { id: a.reservation_id, name: p.name, party_size: p.party_size, at: p.at,
        status: p.status, table: null, arrived: 0, members: [], visits: 0, vip: false, late: false,
        waiting: p.quoted_minutes === null || p.quoted_minutes === undefined ? null
          : { quoted_minutes: p.quoted_minutes, since: a.created_at, ready: 0, code: p.code } });
      return;
    }
    if (g) Object.assign(g, { status: p.status, party_size: p.party_size });
    if (!row) return;
    Object.assign(row, { status: p.status, party_size: p.party_size });
    if (p.change === "late") { row.late = true; row.lateSeq = a.seq; }
    if (p.change === "ready" && row.waiting) row.waiting.ready = a.seq;
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
    if (ok && done) done(ok);
  }
  // The undo offer, tied to the event it would take back (so it goes when it goes stale).
  function offerUndo(text, rid, written) {
    M.say(text, "Undo", function () { toastFor = null; doAct("undo", rid); }, 8);
    toastFor = { rid: rid, seq: written && written.seq ? written.seq : 0 };
  }

  function nameOf(rid) {
    const g = greets.get(rid);
    const row = book.get(rid);
    return (g && g.name) || (row && row.name) || "party";
  }

  function acknowledge(rid) {
    doAct("greet_ack", rid, null, function (written) { offerUndo("Greeted " + nameOf(rid), rid, written); });
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
    const taken = takenTables(rid);
    (config.tables || []).forEach(function (t) {
      const b = M.button(t, "btn table" + (taken[t] ? " taken" : ""), function () { seat(t); });
      if (taken[t]) b.title = "taken: " + taken[t];
      grid.appendChild(b);
    });
    tableInput.value = "";
    warned = null;
    document.getElementById("seat-warning").hidden = true;
    dialog.showModal();
  }
  // Tables with a party seated at them (from the book), by label.
  function takenTables(except) {
    const taken = {};
    book.forEach(function (r) { if (r.status === "seated" && r.table && r.id !== except) taken[r.table] = r.name; });
    return taken;
  }
  let warned = null;  // a taken table the host tapped once: a second tap seats there anyway
  function seat(table) {
    const rid = seating;
    const label = String(table).trim();
    if (rid === null || !label) return;
    const taken = takenTables(rid);
    if (taken[label] && warned !== label) {
      warned = label;
      const warning = document.getElementById("seat-warning");
      warning.textContent = "Table " + label + " is taken by " + taken[label] + " — tap it again to seat here anyway, or choose another.";
      warning.hidden = false;
      return;
    }
    dialog.close();
    seating = null;
    doAct("seat", rid, { table: label }, function (written) {
      offerUndo("Seated " + nameOf(rid) + " at " + label, rid, written);
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

  function waited(iso) {
    const minutes = Math.max(0, Math.floor((M.serverNow() - Date.parse(iso)) / 60000));
    return minutes < 1 ? "just now" : minutes + " min";
  }

  // Compact: the name, who and what matters on two lines, the buttons on the right; four fit at the door.
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
    const body = el("div", "body");
    const top = el("div", "top");
    top.appendChild(el("span", "label", c.acknowledged ? "Greeted" : "Welcome"));
    if (c.vip) top.appendChild(el("span", "tag vip", "VIP"));
    top.appendChild(el("span", "tag visits", c.visits ? ordinal(c.visits + 1) + " visit" : "First visit"));
    (c.tags || []).forEach(function (t) {
      if (TAG_LABELS[t]) top.appendChild(el("span", "tag " + t, TAG_LABELS[t]));
    });
    const wait = el("span", "since", "waiting " + waited(c.created_at));
    wait.title = "arrived " + M.clock(c.created_at);
    top.appendChild(wait);
    body.appendChild(top);
    const name = el("div", "name", c.name);
    if (c.pronunciation) name.appendChild(el("span", "pron", "say “" + c.pronunciation + "”"));
    body.appendChild(name);
    const line = el("div", "line");
    const arrived = c.arrived || 0;
    line.appendChild(el("span", "party", "Party of " + c.party_size + " · " + arrived + " here"));
    if (c.occasion) line.appendChild(el("span", "occasion", c.occasion));
    (c.allergies || []).forEach(function (x) { line.appendChild(el("span", "allergy", "⚠ " + x)); });
    (c.dietary || []).forEach(function (x) { line.appendChild(el("span", "diet", x)); });
    line.appendChild(memberList(c));
    body.appendChild(line);
    // The suggestion, offer and notes share one line: the whole note is a tap away (its title).
    const extra = el("div", "extra");
    if (c.suggestion) extra.appendChild(el("span", "suggestion", c.suggestion));
    if (c.offer) extra.appendChild(el("span", "offer", "Offer: " + c.offer));
    if (c.notes) extra.appendChild(el("span", "notes", c.notes));
    extra.title = [c.suggestion, c.offer && "Offer: " + c.offer, c.notes].filter(Boolean).join("\n");
    if (extra.childNodes.length) body.appendChild(extra);
    art.appendChild(body);
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
      li.appendChild(el("span", "conf", sureness(c.confidence || 0)));
      return li;
    }));
    document.getElementById("no-approaching").hidden = list.length > 0;
  }

  // Accents and case aside: "siobhan" finds "Siobhán O.".
  function folded(text) { return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }

  function statusText(r) {
    if (r.status === "seated" && r.table) return "seated · " + r.table;
    if (r.waiting && HERE[r.status]) {
      if (r.waiting.ready) return "table ready";
      const quoted = r.waiting.quoted_minutes ? " / " + r.waiting.quoted_minutes : "";
      return "waiting " + waited(r.waiting.since).replace(" min", "") + quoted + " min";
    }
    if (r.late && OPEN[r.status]) return "running late";
    return STATUS[r.status] || r.status;
  }

  function renderBook() {
    const rows = Array.from(book.values());
    rows.sort(function (a, b) { return Date.parse(a.at) - Date.parse(b.at) || a.id - b.id; });
    let here = 0;
    let seated = 0;
    rows.forEach(function (r) {
      if (HERE[r.status]) here += 1;
      if (r.status === "seated") seated += 1;
    });
    const wanted = folded(query.trim());
    const shown = wanted ? rows.filter(function (r) { return folded(r.name).indexOf(wanted) >= 0; }) : rows;
    const ol = document.getElementById("book");
    ol.replaceChildren.apply(ol, shown.map(function (r) {
      const li = el("li", "book-row" + (r.waiting && HERE[r.status] ? " waiting" : ""));
      li.dataset.reservation = r.id;
      li.dataset.status = r.status;
      li.appendChild(el("span", "time", M.clock(r.at)));
      const who = el("span", "who", r.name);
      if (r.vip) who.appendChild(el("span", "tag vip", "VIP"));
      li.appendChild(who);
      const banded = (r.members || []).length;
      li.appendChild(el("span", "size", r.arrived && banded ? r.arrived + "/" + r.party_size : String(r.party_size)));
      li.appendChild(el("span", "status " + r.status + (r.late ? " late" : ""), statusText(r)));
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
      const more = M.button("⋯", "btn small more", function () { manage(rid); });
      more.setAttribute("aria-label", "More for " + r.name);
      li.appendChild(more);
      return li;
    }));
    document.getElementById("no-match").hidden = !(wanted && shown.length === 0);
    document.getElementById("counts").textContent =
      "· " + rows.length + " booked · " + here + " here · " + seated + " seated";
  }

  // -- the booking at the stand: arrived by hand, late, no-show, cancel, party size, table ready --
  const bookingDialog = document.getElementById("booking-dialog");
  let managing = null;
  let newSize = 2;
  function manage(rid) {
    const r = book.get(rid);
    if (!r) return;
    managing = rid;
    newSize = r.party_size;
    document.getElementById("booking-title").textContent = r.name + " · " + M.clock(r.at);
    document.getElementById("booking-about").textContent =
      "Party of " + r.party_size + " · " + statusText(r) +
      (r.waiting && r.waiting.code ? " · guest's phone: code " + r.waiting.code : "");
    const can = {
      arrive: !!OPEN[r.status], seat: !!SEATABLE[r.status], late: !!OPEN[r.status] && !r.late,
      ready: !!(r.waiting && HERE[r.status] && !r.waiting.ready),
      no_show: !!OPEN[r.status], cancel: !!(OPEN[r.status] || HERE[r.status]),
    };
    bookingDialog.querySelectorAll("[data-change]").forEach(function (b) { b.hidden = !can[b.dataset.change]; });
    document.getElementById("size-value").textContent = String(newSize);
    bookingDialog.showModal();
  }
  const SAID = { arrive: "marked here", late: "marked running late", no_show: "marked no-show",
                 cancel: "cancelled", ready: "told their table is ready", party_size: "now a party of " };
  function change(kind, extra) {
    const rid = managing;
    if (rid === null) return;
    bookingDialog.close();
    managing = null;
    if (kind === "seat") { askTable(rid); return; }
    doAct(kind, rid, extra, function (written) {
      const said = kind === "party_size" ? SAID[kind] + extra.party_size : SAID[kind];
      offerUndo(nameOf(rid) + " " + said, rid, written);
    });
  }
  bookingDialog.querySelectorAll("[data-change]").forEach(function (b) {
    b.addEventListener("click", function () { change(b.dataset.change); });
  });
  function setSize(n) {
    newSize = Math.max(1, Math.min(50, n));
    document.getElementById("size-value").textContent = String(newSize);
  }
  document.getElementById("size-less").addEventListener("click", function () { setSize(newSize - 1); });
  document.getElementById("size-more").addEventListener("click", function () { setSize(newSize + 1); });
  document.getElementById("size-save").addEventListener("click", function () {
    const r = book.get(managing);
    if (r && r.party_size === newSize) { bookingDialog.close(); return; }
    change("party_size", { party_size: newSize });
  });

  document.getElementById("search").addEventListener("input", function (e) { query = e.target.value; renderBook(); });

  // -- walk-ins -----------------------------------------------------------------------------------
  const walkDialog = document.getElementById("walkin-dialog");
  let walkSize = 2;
  let walkWait = "";
  function setWalkSize(n) {
    walkSize = Math.max(1, Math.min(50, n));
    document.getElementById("walkin-size").textContent = String(walkSize);
  }
  document.getElementById("walk-in").addEventListener("click", function () {
    document.getElementById("walkin-name").value = "";
    document.getElementById("walkin-error").hidden = true;
    setWalkSize(2);
    walkWait = "";
    walkDialog.querySelectorAll("[data-wait]").forEach(function (b) { b.classList.toggle("chosen", b.dataset.wait === ""); });
    walkDialog.showModal();
    document.getElementById("walkin-name").focus();
  });
  document.getElementById("walkin-less").addEventListener("click", function () { setWalkSize(walkSize - 1); });
  document.getElementById("walkin-more").addEventListener("click", function () { setWalkSize(walkSize + 1); });
  walkDialog.querySelectorAll("[data-wait]").forEach(function (b) {
    b.addEventListener("click", function () {
      walkWait = b.dataset.wait;
      walkDialog.querySelectorAll("[data-wait]").forEach(function (x) { x.classList.toggle("chosen", x === b); });
    });
  });
  async function addWalkIn() {
    const name = document.getElementById("walkin-name").value.trim();
    const error = document.getElementById("walkin-error");
    if (!name) { error.textContent = "Give the walk-in a name to call them by."; error.hidden = false; return; }
    const got = await M.post("/walk-ins", { name: name, party_size: walkSize,
                                             quoted_minutes: walkWait === "" ? null : Number(walkWait) });
    if (!got.ok) { error.textContent = "Not added: " + got.detail; error.hidden = false; return; }
    walkDialog.close();
    const rid = got.data.reservation_id;
    if (walkWait === "") {
      askTable(rid);
      document.getElementById("seat-title").textContent = "Seat " + name + " · party of " + walkSize;
      return;
    }
    M.say(name + " is on the waitlist (" + walkWait + " min). Their phone: code " + got.data.code +
          ", name " + got.data.last_name, null, null, 12);
  }
  document.getElementById("walkin-add").addEventListener("click", addWalkIn);
  document.getElementById("walkin-name").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); addWalkIn(); }
  });

  function render() {
    renderGreets();
    renderApproaching();
    renderBook();
  }

  setInterval(renderApproaching, 1000);  // ETAs count down
  setInterval(function () { renderGreets(); renderBook(); }, WAITING_UPDATE_MS);  // time waiting
  M.start({ snapshot: snapshot, event: event });
})();
