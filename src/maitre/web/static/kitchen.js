// Kitchen display: a ticket per party with an age timer, allergens a cook must acknowledge,
// bump and recall, and the all-day count. Applies events as alerts/boards.py KitchenRail does.
"use strict";
(function () {
  const M = window.Maitre;
  const el = M.el;
  const RECALL_SHOWN = 6;  // the most recently bumped tickets offered for recall
  const ANNOUNCE_IF_NEWER_MS = 120000;  // a ticket missed in a drop still chimes if it is this fresh

  let config = { warn_s: 300, late_s: 480 };
  let tickets = new Map();  // reservation id → ticket
  const busy = new Set();

  function snapshot(msg) {
    config = msg.config;
    tickets = new Map(msg.tickets.map(function (t) { return [t.reservation_id, t]; }));
    render();
  }

  function event(a) {
    const rid = a.reservation_id;
    const p = a.payload;
    const t = tickets.get(rid);
    if (a.kind === "kitchen_start") {
      tickets.set(rid, Object.assign({}, p, {
        seq: a.seq, created_at: a.created_at, fired_at: (p.held || []).length ? null : a.created_at,
        bumped_at: null, allergens_acknowledged: !(p.allergies || []).length,
      }));
      if (M.serverNow() - Date.parse(a.created_at) < ANNOUNCE_IF_NEWER_MS) M.announce();
    } else if (!t) {
      return;
    } else if (a.kind === "kitchen_fire") {
      t.items = (t.items || []).concat(t.held || []);
      t.held = [];
      t.fired_at = a.created_at;
      if (M.serverNow() - Date.parse(a.created_at) < ANNOUNCE_IF_NEWER_MS) M.announce();
    } else if (a.kind === "bump") {
      t.bumped_at = a.created_at;
    } else if (a.kind === "recall") {
      t.bumped_at = null;
    } else if (a.kind === "allergen_ack") {
      t.allergens_acknowledged = true;
    } else if (a.kind === "erased") {  // the guest erased their data: the ticket leaves the rail
      tickets.delete(rid);
    }
    render();
  }

  async function doAct(kind, rid) {
    const key = kind + ":" + rid;
    if (busy.has(key)) return;
    busy.add(key);
    render();
    await M.act(kind, rid);
    busy.delete(key);
    render();
  }

  function age(t) { return Math.max(0, (M.serverNow() - Date.parse(t.created_at)) / 1000); }
  function mmss(s) {
    const m = Math.floor(s / 60);
    const r = Math.floor(s % 60);
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function ageClass(s) { return s >= config.late_s ? "late" : s >= config.warn_s ? "warn" : "ok"; }

  function itemLines(items, cls) {
    const ul = el("ul", "items " + cls);
    (items || []).forEach(function (i) {
      const li = el("li", "item");
      li.appendChild(el("span", "qty", i.quantity + "×"));
      li.appendChild(el("span", "dish", i.name));
      (i.modifiers || []).forEach(function (m) { li.appendChild(el("span", "mod", m)); });
      ul.appendChild(li);
    });
    return ul;
  }

  function ticketCard(t) {
    const rid = t.reservation_id;
    const art = el("article", "ticket");
    art.dataset.reservation = rid;
    const head = el("div", "head");
    head.appendChild(el("span", "party", t.party));
    head.appendChild(el("span", "covers", t.party_size + " cov"));
    const s = age(t);
    const timer = el("span", "timer " + ageClass(s), mmss(s));
    head.appendChild(timer);
    art.appendChild(head);
    art.appendChild(el("div", "started", t.started_on === "approach"
      ? (t.fired_at ? "started on approach · all fired" : "started on approach · party on the way")
      : "fired on arrival"));
    if ((t.allergies || []).length || (t.dietary || []).length) {
      const box = el("div", "allergens" + (t.allergens_acknowledged ? " acked" : ""));
      (t.allergies || []).forEach(function (x) { box.appendChild(el("span", "allergy", "⚠ " + x)); });
      (t.dietary || []).forEach(function (x) { box.appendChild(el("span", "diet", x)); });
      if ((t.allergies || []).length && !t.allergens_acknowledged) {
        const ack = M.button("Acknowledge allergy", "btn danger ack", function () { doAct("allergen_ack", rid); });
        ack.disabled = busy.has("allergen_ack:" + rid);
        box.appendChild(ack);
      }
      art.appendChild(box);
    }
    art.appendChild(itemLines(t.items, "fire"));
    if ((t.held || []).length) {
      art.appendChild(el("div", "hold-label", "Hold until they arrive"));
      art.appendChild(itemLines(t.held, "held"));
    }
    const bump = M.button("Bump", "btn primary bump", function () { doAct("bump", rid); });
    bump.disabled = busy.has("bump:" + rid) || !t.allergens_acknowledged;
    if (!t.allergens_acknowledged) bump.title = "acknowledge the allergy first";
    art.appendChild(bump);
    return art;
  }

  function render() {
    const all = Array.from(tickets.values());
    const open = all.filter(function (t) { return !t.bumped_at; });
    open.sort(function (a, b) { return a.seq - b.seq; });  // oldest first: the rail reads left to right
    const rail = document.getElementById("rail");
    rail.replaceChildren.apply(rail, open.map(ticketCard));
    document.getElementById("no-tickets").hidden = open.length > 0;

    const counts = new Map();
    open.forEach(function (t) {
      (t.items || []).concat(t.held || []).forEach(function (i) {
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

  function tick() {
    // Only the timers change each second: update them in place rather than re-render the rail.
    document.querySelectorAll("#rail .ticket").forEach(function (art) {
      const t = tickets.get(Number(art.dataset.reservation));
      if (!t) return;
      const s = age(t);
      const timer = art.querySelector(".timer");
      timer.textContent = mmss(s);
      timer.className = "timer " + ageClass(s);
    });
  }

  setInterval(tick, 1000);
  M.start({ snapshot: snapshot, event: event });
})();
