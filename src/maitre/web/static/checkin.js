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
  function showError(text) { $("error").textContent = text; $("error").hidden = !text; }
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

  function signOut(why) {
    token = null;
    try { sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
    $("me").hidden = true;
    $("find").hidden = false;
    $("signout").hidden = true;
    $("venue").textContent = "Check in";
    if (why) showError(why);
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
  async function load() {
    const got = await api("GET", "/api/guest/me");
    if (!got) return;
    me = got;
    $("find").hidden = true;
    $("me").hidden = false;
    $("signout").hidden = false;
    render();
    loadMenu();
  }

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
    $("preferred-name").value = p.preferred_name || "";
    $("pronunciation").value = p.pronunciation || "";
    $("allergies").value = (p.allergies || []).join(", ");
    $("dietary").value = (p.dietary || []).join(", ");
    $("occasion").value = p.occasion || "";
    $("notes").value = p.notes || "";
    const order = $("order");
    order.replaceChildren.apply(order, me.items.map(function (i) {
      const li = el("li", "ordered");
      li.appendChild(el("span", "grow", i.quantity + "× " + i.name));
      if (me.can_preorder) {
        const x = el("button", "btn small", "Remove");
        x.type = "button";
        x.addEventListener("click", async function () { if (await api("DELETE", "/api/guest/me/items/" + i.id)) load(); });
        li.appendChild(x);
      }
      return li;
    }));
    $("preorder-closed").hidden = me.can_preorder;
    $("menu").hidden = !me.can_preorder;
  }

  async function loadMenu() {
    const dishes = await api("GET", "/api/guest/menu");
    if (!dishes) return;
    const menu = $("menu");
    menu.replaceChildren.apply(menu, dishes.map(function (d) {
      const li = el("li", "dish");
      li.dataset.dish = d.id;
      const text = el("span", "grow");
      text.appendChild(el("span", "dish-name", d.name));
      const price = d.price_cents ? (d.price_cents / 100).toFixed(2) + " · " : "";
      text.appendChild(el("span", "meta", price + d.prep_minutes + " min to prepare" + (d.description ? " · " + d.description : "")));
      li.appendChild(text);
      const add = el("button", "btn small", "Add");
      add.type = "button";
      add.setAttribute("aria-label", "Add " + d.name);
      add.addEventListener("click", async function () {
        if (await api("POST", "/api/guest/me/items", { menu_item_id: d.id, quantity: 1 })) { toast(d.name + " added"); load(); }
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
    if (got) { toast("Saved"); load(); }
  });

  $("erase").addEventListener("click", async function () {
    if (!confirm("Erase your data and cancel this reservation? This cannot be undone.")) return;
    if (await api("DELETE", "/api/guest/me")) signOut("Your data has been erased.");
  });

  if (token) load();
})();
