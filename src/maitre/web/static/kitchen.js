// Kitchen display: a ticket per party, most urgent first, in pages that fit the screen (nothing
// hidden: the pager says how many more). Age timers colour the ticket's header and sound when a
// ticket goes late; allergies a cook acknowledges by name; dishes bumped one by one; held courses
// fired by a tap; keys for a keyboard or bump bar (docs/operate/screens.md#kitchen-keys).
// Applies events as alerts/boards.py KitchenRail does.
"use strict";
(function () {
  const M = window.Maitre;
  const el = M.el;
  const RECALL_SHOWN = 6;  // the most recently bumped tickets offered for recall
  const ANNOUNCE_IF_NEWER_MS = 120000;  // a ticket missed in a drop still chimes if it is this fresh
  const TICKET_MIN_PX = 290;  // a ticket narrower than this wraps dish names into tall columns
  const HELD_COURSES = { main: true, dessert: true };  // as hospitality/tickets.py
  const COURSE_ORDER = [null, "starter", "main", "dessert"];
  const COOK_KEY = "maitre.cook";

  let config = { warn_s: 300, late_s: 480 };
  let tickets = new Map();  // reservation id → ticket
  const busy = new Set();
  const lateSounded = new Set();  // tickets whose going late has sounded (once each)
  let page = 0;
  let perPage = 4;
  let shown = [];  // the open tickets in urgency order, as last rendered
  let selected = null;  // reservation id chosen by keys
  let selectedItem = 0;

  const cook = document.getElementById("cook");
  try { cook.value = localStorage.getItem(COOK_KEY) || ""; } catch (e) { /* private mode */ }
  cook.addEventListener("change", function () {
    try { localStorage.setItem(COOK_KEY, cook.value.trim()); } catch (e) { /* keep it in the field */ }
  });

  function startTicket(p, seq, at) {
    return Object.assign({}, p, {
      seq: seq, created_at: at, table: p.table || null,
      arrived: p.started_on !== "approach",
      fired_at: p.started_on !== "approach" || !(p.held || []).length ? at : null,
      bumped_at: null, done: [],
      allergens_acknowledged: !(p.allergies || []).length,
      allergens_acknowledged_by: null, allergens_acknowledged_at: null,
    });
  }

  function snapshot(msg) {
    config = msg.config;
    tickets = new Map(msg.tickets.map(function (t) { return [t.reservation_id, t]; }));
    tickets.forEach(function (t) { if (ageClass(age(t)) === "late") lateSounded.add(t.reservation_id); });
    render();
  }

  function fired(held, named) {
    const ids = named.map(function (i) { return i.id; });
    if (ids.some(function (i) { return i === undefined || i === null; })) return held.slice();
    return held.filter(function (i) { return ids.indexOf(i.id) >= 0; });
  }

  function event(a) {
    const rid = a.reservation_id;
    const p = a.payload;
    const t = tickets.get(rid);
    const fresh = M.serverNow() - Date.parse(a.created_at) < ANNOUNCE_IF_NEWER_MS;
    if (a.kind === "kitchen_start") {
      tickets.set(rid, startTicket(p, a.seq, a.created_at));
      if (fresh) M.announce();
    } else if (!t) {
      return;
    } else if (a.kind === "kitchen_fire") {
      const now = fired(t.held || [], p.items || []);
      t.items = (t.items || []).concat(now);
      t.held = (t.held || []).filter(function (i) { return now.indexOf(i) < 0; });
      if (!p.by_hand) { t.arrived = true; t.fired_at = a.created_at; }
      if (fresh && now.length) M.announce();
    } else if (a.kind === "bump") {
      if (p.item_id !== undefined && p.item_id !== null) t.done = (t.done || []).concat([p.item_id]);
      else t.bumped_at = a.created_at;
    } else if (a.kind === "recall") {
      if (p.item_id !== undefined && p.item_id !== null) {
        t.done = (t.done || []).filter(function (i) { return i !== p.item_id; });
      } else t.bumped_at = null;
    } else if (a.kind === "allergen_ack") {
      t.allergens_acknowledged = true;
      t.allergens_acknowledged_by = p.by || null;
      t.allergens_acknowledged_at = a.created_at;
    } else if (a.kind === "seat" || a.kind === "undo") {  // the host seated the party, or took it back
      t.table = p.table || null;
    } else if (a.kind === "erased") {  // the guest erased their data: the ticket leaves the rail
      tickets.delete(rid);
    }
    render();
  }

  async function doAct(kind, rid, extra) {
    const key = kind + ":" + rid + (extra && extra.item_id ? ":" + extra.item_id : "");
    if (busy.has(key)) return;
    busy.add(key);
    render();
    await M.act(kind, rid, extra);
    busy.delete(key);
    render();
  }

  function acknowledge(rid) {
    const who = cook.value.trim();
    if (!who) {
      M.say("Type your name in the Cook box at the top first: it is recorded with the acknowledgement.");
      cook.focus();
      return;
    }
    try { localStorage.setItem(COOK_KEY, who); } catch (e) { /* keep it in the field */ }
    doAct("allergen_ack", rid, { by: who });
  }

  function toggleItem(t, item) {
    if (!t.allergens_acknowledged) {
      M.say("Acknowledge the allergy first: nothing was marked done.");
      return;
    }
    const done = (t.done || []).indexOf(item.id) >= 0;
    doAct(done ? "recall" : "bump", t.reservation_id, { item_id: item.id });
  }

  function age(t) { return Math.max(0, (M.serverNow() - Date.parse(t.created_at)) / 1000); }
  function mmss(s) {
    const m = Math.floor(s / 60);
    const r = Math.floor(s % 60);
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function ageClass(s) { return s >= config.late_s ? "late" : s >= config.warn_s ? "warn" : "ok"; }
  function courseRank(c) { const i = COURSE_ORDER.indexOf(c || null); return i < 0 ? COURSE_ORDER.length : i; }
  function nextCourse(t) {
    const held = t.held || [];
    if (!held.length) return null;
    return held.map(function (i) { return i.course || null; }).sort(function (a, b) { return courseRank(a) - courseRank(b); })[0];
  }
  function courseLabel(c) { return c === "main" ? "mains" : c === "dessert" ? "desserts" : c === "starter" ? "starters" : "the rest"; }
  // Nothing to cook now: every fired dish done, the rest waiting for a tap or for the party.
  function waiting(t) {
    return (t.items || []).every(function (i) { return (t.done || []).indexOf(i.id) >= 0; });
  }
  // Most urgent first: tickets with dishes to cook before those waiting, then the oldest.
  function urgency(a, b) {
    return (waiting(a) - waiting(b)) || (Date.parse(a.created_at) - Date.parse(b.created_at)) || (a.seq - b.seq);
  }

  function itemLines(t, items, held) {
    const ul = el("ul", "items " + (held ? "held" : "fire"));
    (items || []).forEach(function (i, n) {
      const done = (t.done || []).indexOf(i.id) >= 0;
      const li = el("li", "item" + (done ? " done" : ""));
      li.dataset.item = i.id;
      if (!held && i.id !== undefined && i.id !== null) {
        li.setAttribute("role", "button");
        li.setAttribute("aria-pressed", String(done));
        li.tabIndex = -1;
        li.addEventListener("click", function () { toggleItem(t, i); });
        if (selected === t.reservation_id && selectedItem === n) li.classList.add("selected");
      }
      li.appendChild(el("span", "qty", i.quantity + "×"));
      li.appendChild(el("span", "dish", i.name));
      if (i.course) li.appendChild(el("span", "course", i.course));
      (i.modifiers || []).forEach(function (m) { li.appendChild(el("span", "mod", m)); });
      ul.appendChild(li);
    });
    return ul;
  }

  function allergenBox(t, rid) {
    const health = (t.allergies || []).length || (t.allergen_warnings || []).length;
    const box = el("div", "allergens" + (t.allergens_acknowledged ? " acked" : "") + (health ? "" : " diet-only"));
    (t.allergies || []).forEach(function (x) { box.appendChild(el("span", "allergy", "⚠ " + x)); });
    (t.dietary || []).forEach(function (x) { box.appendChild(el("span", "diet", x)); });
    (t.allergen_warnings || []).forEach(function (w) {
      const what = (w.labels || []).length ? " (" + w.labels.join(", ") + ")" : "";
      box.appendChild(el("div", "clash", "⚠ " + w.item + " clashes with “" + w.allergy + "”" + what));
    });
    if ((t.allergies || []).length && !t.allergens_acknowledged) {
      const ack = M.button("Acknowledge allergy", "btn danger ack", function () { acknowledge(rid); });
      ack.disabled = busy.has("allergen_ack:" + rid);
      box.appendChild(ack);
    } else if (t.allergens_acknowledged_at) {
      box.appendChild(el("div", "acked-by", "✓ read by " + (t.allergens_acknowledged_by || "?") +
                         " · " + M.clock(t.allergens_acknowledged_at)));
    }
    return box;
  }

  function ticketCard(t, position) {
    const rid = t.reservation_id;
    const s = age(t);
    const art = el("article", "ticket age-" + ageClass(s) + (selected === rid ? " selected" : "") +
                   (waiting(t) ? " waiting" : ""));
    art.dataset.reservation = rid;
    const head = el("div", "head");
    head.appendChild(el("span", "pos", String(position)));
    head.appendChild(el("span", "party", t.party));
    head.appendChild(el("span", "timer " + ageClass(s), mmss(s)));
    art.appendChild(head);
    const meta = el("div", "meta");
    meta.appendChild(el("span", "table" + (t.table ? "" : " none"), t.table ? "Table " + t.table : "no table yet"));
    meta.appendChild(el("span", "covers", t.party_size + " cov"));
    meta.appendChild(el("span", "started", !t.arrived ? "on the way" : t.started_on === "approach" ? "started on approach" : "fired on arrival"));
    art.appendChild(meta);

    const body = el("div", "body");
    if ((t.allergies || []).length || (t.dietary || []).length || (t.allergen_warnings || []).length) {
      body.appendChild(allergenBox(t, rid));
    }
    if (t.occasion || (t.notes || []).length) {
      const notes = el("div", "notes");
      if (t.occasion) notes.appendChild(el("span", "occasion", t.occasion));
      (t.notes || []).forEach(function (n) { notes.appendChild(el("div", "note", "✎ " + n)); });
      body.appendChild(notes);
    }
    body.appendChild(itemLines(t, t.items, false));
    const next = nextCourse(t);
    if (next !== null) {
      body.appendChild(el("div", "hold-label", t.arrived ? "Held: " + courseLabel(next) + " wait for Fire" : "Hold until they arrive"));
      body.appendChild(itemLines(t, t.held, true));
    }
    art.appendChild(body);

    const foot = el("div", "foot");
    const buttons = el("div", "buttons");
    if (next !== null) {
      const fire = M.button("Fire " + courseLabel(next), "btn fire", function () { doAct("fire", rid); });
      fire.disabled = busy.has("fire:" + rid);
      buttons.appendChild(fire);
    }
    const bump = M.button("Bump", "btn primary bump", function () { doAct("bump", rid); });
    const why = !t.allergens_acknowledged ? "Acknowledge the allergy to bump"
      : next !== null ? "Fire the held " + courseLabel(next) + " to bump" : "";
    bump.disabled = busy.has("bump:" + rid) || !!why;
    buttons.appendChild(bump);
    foot.appendChild(buttons);
    if (why) {
      const reason = el("div", "why", why);  // said on the ticket: touch screens show no tooltips
      reason.id = "why-" + rid;
      bump.setAttribute("aria-describedby", reason.id);
      foot.appendChild(reason);
    }
    art.appendChild(foot);
    return art;
  }

  function columns() {
    const rail = document.getElementById("rail");
    return Math.max(1, Math.floor(rail.clientWidth / TICKET_MIN_PX));
  }

  function render() {
    const all = Array.from(tickets.values());
    const open = all.filter(function (t) { return !t.bumped_at; });
    open.sort(urgency);
    shown = open;
    perPage = columns();
    const pages = Math.max(1, Math.ceil(open.length / perPage));
    page = Math.min(page, pages - 1);
    const first = page * perPage;
    const rail = document.getElementById("rail");
    rail.style.setProperty("--cols", String(perPage));
    rail.replaceChildren.apply(rail, open.slice(first, first + perPage).map(function (t, n) {
      return ticketCard(t, n + 1);
    }));
    rail.querySelectorAll(".ticket .body").forEach(function (b) {
      b.classList.toggle("overflows", b.scrollHeight > b.clientHeight + 1);
    });
    document.getElementById("no-tickets").hidden = open.length > 0;
    renderPager(open.length, first);

    const counts = new Map();
    open.forEach(function (t) {
      (t.items || []).concat(t.held || []).forEach(function (i) {
        if ((t.done || []).indexOf(i.id) >= 0) return;
        counts.set(i.name, (counts.get(i.name) || 0) + i.quantity);
      });
    });
    const allday = document.getElementById("allday");
    allday.replaceChildren.apply(allday, Array.from(counts, function (kv) {
      const li = el("li", "count");
      li.dataset.item = kv[0];
      li.appendChild(el("span", "qty", kv[1] + "×"));
      li.appendChild(el("span", "dish", kv[0]));
      return li;
    }));

    const bumped = all.filter(function (t) { return t.bumped_at; });
    bumped.sort(function (a, b) { return Date.parse(b.bumped_at) - Date.parse(a.bumped_at); });
    const strip = document.getElementById("bumped");
    strip.replaceChildren.apply(strip, bumped.slice(0, RECALL_SHOWN).map(function (t) {
      const li = el("li", "bumped");
      li.dataset.reservation = t.reservation_id;
      const b = M.button("↺ " + t.party + " · " + M.clock(t.bumped_at), "btn small recall",
                         function () { doAct("recall", t.reservation_id); });
      b.disabled = busy.has("recall:" + t.reservation_id);
      li.appendChild(b);
      return li;
    }));
  }

  function renderPager(total, first) {
    const before = first;
    const after = Math.max(0, total - first - perPage);
    const prev = document.getElementById("prev");
    const next = document.getElementById("next");
    prev.textContent = "◀ " + before + " earlier";
    next.textContent = after + " more ▶";
    prev.disabled = before === 0;
    next.disabled = after === 0;
    next.classList.toggle("has-more", after > 0);
    document.getElementById("pages").textContent = total
      ? (first + 1) + "–" + Math.min(total, first + perPage) + " of " + total : "";
    document.getElementById("pager").hidden = total <= perPage;
  }

  function turn(by) {
    const pages = Math.max(1, Math.ceil(shown.length / perPage));
    page = Math.max(0, Math.min(pages - 1, page + by));
    render();
  }
  document.getElementById("prev").addEventListener("click", function () { turn(-1); });
  document.getElementById("next").addEventListener("click", function () { turn(1); });
  window.addEventListener("resize", render);

  // -- keys: a keyboard, or a bump bar (a USB keypad that types these) ---------------------------
  function selectedTicket() { return selected === null ? null : tickets.get(selected) || null; }
  function select(rid) {
    selected = rid;
    selectedItem = 0;
    const n = shown.findIndex(function (t) { return t.reservation_id === rid; });
    if (n >= 0) page = Math.floor(n / perPage);
    render();
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.target === cook || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = selectedTicket();
    const k = ev.key;
    if (/^[1-9]$/.test(k)) {
      const pick = shown[page * perPage + Number(k) - 1];
      if (pick) select(pick.reservation_id);
    } else if (k === "ArrowRight" || k === "PageDown") turn(1);
    else if (k === "ArrowLeft" || k === "PageUp") turn(-1);
    else if (k === "Escape") { selected = null; render(); }
    else if (k === "r" || k === "R") {
      const last = Array.from(tickets.values()).filter(function (x) { return x.bumped_at; })
        .sort(function (a, b) { return Date.parse(b.bumped_at) - Date.parse(a.bumped_at); })[0];
      if (last) doAct("recall", last.reservation_id);
    } else if (!t) {
      return;
    } else if (k === "ArrowDown" || k === "ArrowUp") {
      const n = (t.items || []).length;
      if (n) selectedItem = (selectedItem + (k === "ArrowDown" ? 1 : n - 1)) % n;
      render();
    } else if (k === " ") {
      const item = (t.items || [])[selectedItem];
      if (item) toggleItem(t, item);
    } else if (k === "Enter" || k === "b" || k === "B") {
      const why = document.getElementById("why-" + t.reservation_id);
      if (why) M.say("Not bumped: " + why.textContent.toLowerCase() + ".");
      else doAct("bump", t.reservation_id);
    } else if (k === "a" || k === "A") {
      if ((t.allergies || []).length && !t.allergens_acknowledged) acknowledge(t.reservation_id);
    } else if (k === "f" || k === "F") {
      if ((t.held || []).length) doAct("fire", t.reservation_id);
    } else {
      return;
    }
    ev.preventDefault();
  });

  function tick() {
    // Only the timers change each second: update them in place rather than re-render the rail.
    tickets.forEach(function (t) {
      if (t.bumped_at || lateSounded.has(t.reservation_id) || ageClass(age(t)) !== "late") return;
      lateSounded.add(t.reservation_id);
      M.alarm();  // a ticket just went late
    });
    document.querySelectorAll("#rail .ticket").forEach(function (art) {
      const t = tickets.get(Number(art.dataset.reservation));
      if (!t) return;
      const s = age(t);
      const cls = ageClass(s);
      const timer = art.querySelector(".timer");
      timer.textContent = mmss(s);
      timer.className = "timer " + cls;
      art.classList.remove("age-ok", "age-warn", "age-late");
      art.classList.add("age-" + cls);
    });
  }

  setInterval(tick, 1000);
  M.start({ snapshot: snapshot, event: event });
})();
