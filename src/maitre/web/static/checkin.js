// Guest check-in on a phone: find the reservation, link a band, consents, preferences, pre-order.
// Everything the guest or the service wrote reaches the page through textContent, never as markup.
"use strict";
(function () {
  const KEY = "maitre.guest";  // sessionStorage: the session ends with the tab, and expires anyway
  const $ = function (id) { return document.getElementById(id); };
  let token = null;
  try { token = sessionStorage.getItem(KEY); } catch (e) { /* private mode */ }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const MAX_OF_A_DISH = 20;
  function money(cents) {
    const currency = (me && me.currency) || "EUR";
    try { return new Intl.NumberFormat([], { style: "currency", currency: currency }).format(cents / 100); }
    catch (e) { return (cents / 100).toFixed(2) + " " + currency; }
  }
  // How long a dish takes, as a guest would put it (not the kitchen's minutes).
  function readiness(minutes) {
    if (minutes >= 20) return "takes a while: ordering ahead saves you the wait";
    if (minutes >= 10) return "ready soon after you sit down";
    return "ready as you sit down";
  }
  // Allergies typed in reach staff only with their own consent: say which, and offer to share.
  function allergyNote() {
    if (!me) return;
    const typed = $("allergies").value.trim() !== "" || $("dietary").value.trim() !== "";
    const shared = !!me.consents.allergies;
    const note = $("allergy-note");
    note.hidden = !typed;
    note.className = "allergy-note " + (shared ? "shared" : "hidden-from-staff");
    note.textContent = shared ? "The host and the kitchen will see these."
      : "Not shared yet: the host and the kitchen will not see these.";
    $("share-allergies").hidden = !typed || shared;
  }
  function showError(text) {
    $("error").textContent = text;
    $("error").hidden = !text;
    if (text) showNotice("");
  }
  function showNotice(text) { $("notice").textContent = text; $("notice").hidden = !text; }
  let toastTimer = null;
  function toast(text) {
    $("toast").textContent = text;
    $("toast").hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { $("toast").hidden = true; }, 3000);
  }

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    let r;
    try {
      r = await fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      showError("No connection. Try again in a moment.");
      return null;
    }
    if (r.status === 204) { showError(""); return {}; }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.ok) { showError(""); return data; }
    if (r.status === 401 && token) { signOut("Your session has ended. Find your reservation again."); return null; }
    showError(describe(data) || "Something went wrong (" + r.status + ").");
    return null;
  }
  function describe(data) {
    if (!data || data.detail === undefined) return "";
    if (typeof data.detail === "string") return data.detail;
    return data.detail.map(function (d) {
      const field = (d.loc || []).slice(-1)[0];
      return (field ? field + ": " : "") + d.msg;
    }).join("; ");
  }

  function signOut(why, good) {
    token = null;
    me = null;
    menuLoaded = false;
    try { sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
    $("me").hidden = true;
    $("find").hidden = false;
    $("signout").hidden = true;
    $("venue").textContent = "Check in";
    // Nothing of the guest's stays on the page once they leave it (or erase themselves).
    editing.clear();
    document.querySelectorAll("input, textarea").forEach(function (f) {
      if (f.type === "checkbox") f.checked = false; else f.value = "";
    });
    ["bands", "order", "menu"].forEach(function (id) { $(id).replaceChildren(); });
    if (good) { showError(""); showNotice(why); } else if (why) showError(why);
  }

  // -- find -------------------------------------------------------------------------------------------
  const fromLink = /(?:^#|&)code=([^&]+)/.exec(location.hash);
  if (fromLink) {
    $("code").value = decodeURIComponent(fromLink[1]);
    history.replaceState(null, "", location.pathname);
  }
  $("find-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const got = await api("POST", "/api/guest/session", { code: $("code").value, last_name: $("last-name").value });
    if (!got) return;
    token = got.token;
    try { sessionStorage.setItem(KEY, token); } catch (err) { /* keep it in memory */ }
    load();
  });
  $("signout").addEventListener("click", function () { signOut(""); });

  // -- the guest's page ---------------------------------------------------------------------------------
  let me = null;
  let menuLoaded = false;
  async function load() {
    const got = await api("GET", "/api/guest/me");
    if (!got) return;
    me = got;
    $("find").hidden = true;
    $("me").hidden = false;
    $("signout").hidden = false;
    render();
    if (!menuLoaded) loadMenu();
  }

  // What the guest is typing stays: a field is filled from the service only until they edit it.
  const editing = new Set();
  function fill(id, value) { if (!editing.has(id)) $(id).value = value; }
  ["preferred-name", "pronunciation", "allergies", "dietary", "occasion", "notes", "email"].forEach(function (id) {
    $(id).addEventListener("input", function () { editing.add(id); });
  });

  function render() {
    $("venue").textContent = me.venue.name;
    const at = new Date(me.reservation.at);
    let when;
    try {
      when = new Intl.DateTimeFormat([], { weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit", timeZone: me.venue.timezone }).format(at);
    } catch (e) { when = at.toLocaleString(); }
    $("booking").textContent = (me.preferences.preferred_name || me.guest.first_name) + " · table for " + me.reservation.party_size + " · " + when;
    $("status-line").textContent = me.status_line;
    const bands = $("bands");
    bands.replaceChildren.apply(bands, me.bands.map(function (b) {
      const li = el("li", "band");
      li.appendChild(el("span", "grow", "Band " + b.label));
      const x = el("button", "btn small", "Unlink");
      x.type = "button";
      x.addEventListener("click", async function () {
        if (await api("DELETE", "/api/guest/me/bands/" + encodeURIComponent(b.label))) { toast("Band unlinked"); load(); }
      });
      li.appendChild(x);
      return li;
    }));
    document.querySelectorAll("[data-purpose]").forEach(function (box) { box.checked = !!me.consents[box.dataset.purpose]; });
    const p = me.preferences;
    fill("preferred-name", p.preferred_name || "");
    fill("pronunciation", p.pronunciation || "");
    fill("allergies", (p.allergies || []).join(", "));
    fill("email", me.guest.email || "");
    $("marketing").disabled = !me.guest.email && !me.consents.marketing;
    allergyNote();
    fill("dietary", (p.dietary || []).join(", "));
    fill("occasion", p.occasion || "");
    fill("notes", p.notes || "");
    const order = $("order");
    let total = 0;
    order.replaceChildren.apply(order, me.items.map(function (i) {
      const li = el("li", "ordered");
      li.appendChild(el("span", "grow", i.quantity + "× " + i.name));
      const line = (i.price_cents || 0) * i.quantity;
      total += line;
      if (line) li.appendChild(el("span", "price", money(line)));
      if (me.can_preorder) {
        const x = el("button", "btn small", "Remove");
        x.type = "button";
        x.addEventListener("click", async function () { if (await api("DELETE", "/api/guest/me/items/" + i.id)) load(); });
        li.appendChild(x);
      }
      return li;
    }));
    $("total").textContent = "Total " + money(total) + " · paid at the table";
    $("total").hidden = total === 0;
    $("preorder-closed").hidden = me.can_preorder;
    $("menu").hidden = !me.can_preorder;
  }

  async function loadMenu() {
    const dishes = await api("GET", "/api/guest/menu");
    if (!dishes) return;
    menuLoaded = true;
    const menu = $("menu");
    menu.replaceChildren.apply(menu, dishes.map(function (d) {
      const li = el("li", "dish");
      li.dataset.dish = d.id;
      const text = el("span", "grow");
      text.appendChild(el("span", "dish-name", d.name));
      const price = d.price_cents ? money(d.price_cents) + " · " : "";
      text.appendChild(el("span", "meta", price + (d.description ? d.description + " · " : "") + readiness(d.prep_minutes)));
      li.appendChild(text);
      let qty = 1;
      const stepper = el("span", "qty");
      const shown = el("output", "", "1");
      shown.setAttribute("aria-label", "How many " + d.name);
      const less = el("button", "btn small", "−");
      const more = el("button", "btn small", "+");
      [less, more].forEach(function (b) { b.type = "button"; });
      less.setAttribute("aria-label", "One fewer " + d.name);
      more.setAttribute("aria-label", "One more " + d.name);
      const set = function (n) { qty = Math.max(1, Math.min(MAX_OF_A_DISH, n)); shown.textContent = String(qty); };
      less.addEventListener("click", function () { set(qty - 1); });
      more.addEventListener("click", function () { set(qty + 1); });
      stepper.append(less, shown, more);
      li.appendChild(stepper);
      const add = el("button", "btn small", "Add");
      add.type = "button";
      add.setAttribute("aria-label", "Add " + d.name);
      add.addEventListener("click", async function () {
        if (await api("POST", "/api/guest/me/items", { menu_item_id: d.id, quantity: qty })) {
          toast(qty + "× " + d.name + " added");
          set(1);
          load();
        }
      });
      li.appendChild(add);
      return li;
    }));
  }

  // -- band: typed, or scanned where the browser can read QR codes ---------------------------------------
  async function link(code) {
    if (!code.trim()) return;
    if (await api("POST", "/api/guest/me/bands", { label: code })) {
      $("band-code").value = "";
      toast("Band linked");
      load();
    }
  }
  $("band-form").addEventListener("submit", function (e) { e.preventDefault(); link($("band-code").value); });
  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    $("scan").hidden = false;
    $("scan").addEventListener("click", scan);
  }
  async function scan() {
    const video = $("scanner");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (e) { showError("The camera is not available; type the code instead."); return; }
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
    const deadline = Date.now() + 30000;
    (async function tick() {
      if (Date.now() > deadline) { stop(); showError("No code found; type the code instead."); return; }
      try {
        const found = await detector.detect(video);
        if (found.length) { stop(); link(String(found[0].rawValue).replace(/^.*[#=/]/, "")); return; }
      } catch (e) { /* a frame it could not read */ }
      setTimeout(tick, 250);
    })();
  }

  // -- consents and preferences -------------------------------------------------------------------------
  document.querySelectorAll("[data-purpose]").forEach(function (box) {
    box.addEventListener("change", async function () {
      const body = {};
      body[box.dataset.purpose] = box.checked;
      const got = await api("PUT", "/api/guest/me/consent", body);
      if (!got) { box.checked = !box.checked; return; }
      if (me) { me.consents[box.dataset.purpose] = box.checked; allergyNote(); }
      if (got.status_line) $("status-line").textContent = got.status_line;  // at once, not after a reload
      toast(box.checked ? "Turned on" : "Turned off — effective now");
      load();
    });
  });
  function list(text) { return text.split(",").map(function (s) { return s.trim(); }).filter(Boolean); }
  function orNull(text) { return text.trim() ? text.trim() : null; }
  $("prefs-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const got = await api("PUT", "/api/guest/me/preferences", {
      preferred_name: orNull($("preferred-name").value), pronunciation: orNull($("pronunciation").value),
      allergies: list($("allergies").value), dietary: list($("dietary").value),
      occasion: orNull($("occasion").value), notes: orNull($("notes").value),
    });
    if (got) {
      ["preferred-name", "pronunciation", "allergies", "dietary", "occasion", "notes"].forEach(function (id) { editing.delete(id); });
      toast("Saved");
      load();
    }
  });

  $("allergies").addEventListener("input", allergyNote);
  $("dietary").addEventListener("input", allergyNote);
  $("share-allergies").addEventListener("click", async function () {
    const got = await api("PUT", "/api/guest/me/consent", { allergies: true });
    if (!got) return;
    me.consents.allergies = true;
    document.querySelector('[data-purpose="allergies"]').checked = true;
    allergyNote();
    toast("Shared with the host and the kitchen");
    $("prefs-form").requestSubmit();  // and save what was typed
  });
  $("email-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const got = await api("PUT", "/api/guest/me/email", { email: $("email").value.trim() });
    if (got) { editing.delete("email"); toast(got.email ? "E-mail saved" : "E-mail removed"); load(); }
  });
  // A waitlisted walk-in's page says when the table is ready; everyone's status stays current.
  // Only the status line: what the guest is typing stays as it is.
  setInterval(async function () {
    if (!token || !me || document.hidden) return;
    const got = await api("GET", "/api/guest/me");
    if (got && me) { me.status_line = got.status_line; $("status-line").textContent = got.status_line; }
  }, 10000);

  $("erase").addEventListener("click", async function () {
    if (!confirm("Erase your data and cancel this reservation? This cannot be undone.")) return;
    if (await api("DELETE", "/api/guest/me")) signOut("Done: your data has been erased and this reservation cancelled.", true);
  });

  if (token) load();
})();
