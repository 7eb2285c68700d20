// What every staff screen shares: the token, the live feed (snapshot, resume, exactly-once),
// staff actions, the offline banner, the arrival chime and flash, and small DOM helpers.
// Guest-provided text only ever reaches the page through textContent, never as markup.
"use strict";
window.Maitre = (function () {
  const FATAL = { 4401: true, 4403: true, 4404: true };  // a new token or URL is needed, not a retry
  const PING_EVERY_MS = 5000;
  const SILENCE_MS = 12000;  // no frame (not even a pong) for this long: the link is dead
  const role = document.body.dataset.role;
  const storeKey = "maitre.token." + role;

  // The token arrives in the URL fragment (never sent to the server, so never in a request log);
  // it is kept in localStorage so a reloaded tablet stays signed in, and wiped from the address bar.
  function readToken() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      const token = decodeURIComponent(m[1]);
      try { localStorage.setItem(storeKey, token); } catch (e) { /* private mode: keep it in memory */ }
      history.replaceState(null, "", location.pathname + location.search);
      return token;
    }
    try { return localStorage.getItem(storeKey); } catch (e) { return null; }
  }

  function claimsOf(token) {
    try {
      const body = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(body));
    } catch (e) { return null; }
  }

  const token = readToken();
  const claims = token ? claimsOf(token) : null;
  const venue = claims && typeof claims.venue === "string" ? claims.venue : null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function button(label, cls, onTap) {
    const b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", onTap);
    return b;
  }

  // -- time: the server's clock, so ages and countdowns agree across tablets ---------------------
  let clockOffset = 0;
  function serverNow() { return Date.now() + clockOffset; }
  let timeFormat = new Intl.DateTimeFormat([], { hour: "numeric", minute: "2-digit" });
  function setTimezone(tz) {
    try { timeFormat = new Intl.DateTimeFormat([], { hour: "numeric", minute: "2-digit", timeZone: tz }); }
    catch (e) { /* unknown zone: keep the tablet's */ }
  }
  function clock(iso) { return timeFormat.format(new Date(iso)); }

  // -- header: venue, clock, switches, connection ---------------------------------------------------
  const conn = document.getElementById("conn");
  const banner = document.getElementById("offline");
  let lastFrameAt = 0;
  function setOnline(online, text) {
    conn.textContent = online ? "live" : (text || "offline");
    conn.className = online ? "online" : "offline";
    document.body.classList.toggle("is-offline", !online);
    if (!online) {
      const since = lastFrameAt ? " · last update " + timeFormat.format(new Date(lastFrameAt)) : "";
      banner.textContent = (text || "Offline — reconnecting…") + since;
    }
  }
  // Why a screen cannot sign in, said for the person standing at it (a host or a cook).
  const SIGNED_OUT = {
    4401: "Signed out: this screen's link no longer works (the system was restarted or the link expired).",
    4403: "Signed out: this link is for another screen or restaurant.",
    4404: "This screen's link points to a restaurant or screen that does not exist.",
    0: "This screen has no sign-in link.",
  };
  function fatal(code, reason) {
    setOnline(false, "signed out");
    banner.replaceChildren(
      el("strong", "", SIGNED_OUT[code] || SIGNED_OUT[4401]),
      el("span", "", " Ask the manager for a new screen link, then open it here."));
    banner.title = reason || "";  // the technical reason, for whoever fixes it
    document.body.dataset.signedOut = String(code);
    document.body.classList.add("is-fatal");
  }

  const prefs = { sound: true, flash: true };
  function setupSwitch(id, name) {
    const b = document.getElementById(id);
    try { const v = localStorage.getItem("maitre." + name); if (v !== null) prefs[name] = v === "on"; } catch (e) {}
    const show = function () {
      b.textContent = name[0].toUpperCase() + name.slice(1) + ": " + (prefs[name] ? "on" : "off");
      b.setAttribute("aria-pressed", String(prefs[name]));
      b.classList.toggle("off", !prefs[name]);
    };
    b.addEventListener("click", function () {
      prefs[name] = !prefs[name];
      try { localStorage.setItem("maitre." + name, prefs[name] ? "on" : "off"); } catch (e) {}
      show();
      unlockAudio();
      soundHint();
    });
    show();
  }

  // -- chime and flash for something new --------------------------------------------------------
  let audio = null;
  function unlockAudio() {
    // Browsers let a page make sound only after a tap; the first tap anywhere unlocks it.
    try {
      if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  // Until someone taps the screen the browser keeps the chime silent: say so where it shows.
  function soundHint() {
    let hint = document.getElementById("sound-blocked");
    if (!hint) {
      hint = button("Tap to enable sound", "sound-blocked", function () { unlockAudio(); });
      hint.id = "sound-blocked";
      hint.hidden = true;
      hint.title = "The browser keeps the arrival chime silent until someone taps the screen";
      const switches = document.querySelector("header .switches");
      if (!switches) return;  // a screen without sound switches has no chime to unlock
      switches.before(hint);
    }
    const blocked = prefs.sound && (!audio || audio.state !== "running");
    hint.hidden = !blocked;
  }
  function watchSound() {
    try {
      if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
      audio.onstatechange = soundHint;
    } catch (e) { audio = null; }
    soundHint();
    setTimeout(soundHint, 300);  // some browsers report "running" only a moment after creating it
  }
  function chime() {
    if (!prefs.sound || !audio || audio.state !== "running") return;
    [880, 1320].forEach(function (freq, i) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const t = audio.currentTime + i * 0.18;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.4);
    });
  }
  // Something has gone wrong (a kitchen ticket went late): three low beeps, unlike the chime.
  let alarms = 0;
  function alarm() {
    alarms += 1;
    document.body.dataset.alarms = String(alarms);  // tests read this: the alarm fired
    if (!prefs.sound || !audio || audio.state !== "running") return;
    [0, 1, 2].forEach(function (i) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const t = audio.currentTime + i * 0.3;
      osc.type = "square";
      osc.frequency.value = 440;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.25);
    });
  }
  let flashes = 0;
  function announce() {
    chime();
    flashes += 1;
    document.body.dataset.announced = String(flashes);  // tests read this: sound and flash fired
    if (!prefs.flash) return;
    document.body.classList.remove("flash");
    void document.body.offsetWidth;  // restart the animation
    document.body.classList.add("flash");
  }

  // -- toast: errors and the undo offer -----------------------------------------------------------
  const toast = document.getElementById("toast");
  let toastTimer = 0;
  function say(text, actionLabel, onAction, seconds) {
    toast.replaceChildren(el("span", "msg", text));
    if (actionLabel) toast.appendChild(button(actionLabel, "btn small", function () { hideToast(); onAction(); }));
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(hideToast, (seconds || 6) * 1000);
  }
  function hideToast() { toast.hidden = true; }

  // -- staff actions -------------------------------------------------------------------------------
  function actionId() {
    // crypto.randomUUID needs a secure context; a tablet on http://venue-server does not have one.
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  async function act(kind, reservationId, extra) {
    const body = JSON.stringify(Object.assign({ action_id: actionId(), kind: kind, reservation_id: reservationId }, extra || {}));
    // The same action id on every try: a retry after a lost response is not a second tap.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const r = await fetch("/api/venues/" + encodeURIComponent(venue) + "/actions", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
          body: body,
        });
        if (r.ok) { try { return await r.json(); } catch (e) { return true; } }  // the event it wrote
        let detail = r.statusText;
        try { const j = await r.json(); detail = typeof j.detail === "string" ? j.detail : detail; } catch (e) {}
        say("Not done: " + detail);
        return false;
      } catch (e) {
        await new Promise(function (res) { setTimeout(res, 400 * (attempt + 1)); });
      }
    }
    say("Not done: the service cannot be reached");
    return false;
  }

  // A POST to the venue's API as this screen; {ok, data} or {ok: false, detail} in words for staff.
  async function post(path, payload) {
    try {
      const r = await fetch("/api/venues/" + encodeURIComponent(venue) + path, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
        body: JSON.stringify(payload),
      });
      let data = null;
      try { data = await r.json(); } catch (e) { data = null; }
      if (r.ok) return { ok: true, data: data };
      const detail = data && typeof data.detail === "string" ? data.detail : "please check what you entered";
      return { ok: false, detail: detail };
    } catch (e) {
      return { ok: false, detail: "the service cannot be reached" };
    }
  }

  // -- the feed: snapshot or resume, then each event exactly once, in order ------------------------
  function connect(handlers) {
    let lastSeq = 0;
    let retry = 500;
    let ws = null;
    let pinger = 0;
    let heard = 0;

    function open() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const sock = new WebSocket(proto + "//" + location.host + "/ws/" + encodeURIComponent(venue) + "/" + role);
      ws = sock;
      sock.onopen = function () {
        heard = Date.now();
        sock.send(JSON.stringify({ type: "hello", token: token, since: lastSeq }));
      };
      sock.onmessage = function (ev) {
        if (sock !== ws) return;
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        heard = lastFrameAt = Date.now();
        if (msg.type === "snapshot" || msg.type === "resume") {
          clockOffset = Date.parse(msg.now) - Date.now();
          if (msg.config && msg.config.timezone) setTimezone(msg.config.timezone);
          if (msg.venue_name) document.getElementById("venue").textContent = msg.venue_name;
          retry = 500;
          setOnline(true);
          if (msg.type === "snapshot") {
            lastSeq = msg.seq;  // the state as of this seq replaces whatever the screen had
            handlers.snapshot(msg);
          }
        } else if (msg.type === "alert") {
          if (msg.seq <= lastSeq) return;  // already shown: exactly once, even across reconnects
          lastSeq = msg.seq;
          handlers.event(msg);
        }
      };
      sock.onclose = function (ev) {
        if (sock !== ws) return;
        clearInterval(pinger);
        if (FATAL[ev.code]) { fatal(ev.code, ev.reason); return; }
        setOnline(false);
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 5000);
      };
      clearInterval(pinger);
      pinger = setInterval(function () {
        if (sock.readyState !== WebSocket.OPEN) return;
        if (Date.now() - heard > SILENCE_MS) {
          // A half-open link (Wi-Fi gone) never fires onclose by itself: give up on it now.
          ws = null;
          sock.close();
          clearInterval(pinger);
          setOnline(false);
          setTimeout(open, 0);
          return;
        }
        sock.send('{"type":"ping"}');
      }, PING_EVERY_MS);
    }

    if (!token || !venue) { fatal(0, "no token in the link"); return; }
    open();
  }

  function start(handlers) {
    setupSwitch("sound", "sound");
    setupSwitch("flash", "flash");
    watchSound();
    document.getElementById("venue").textContent = venue || "";
    const clockEl = document.getElementById("clock");
    const tick = function () { clockEl.textContent = timeFormat.format(new Date(serverNow())); };
    tick();
    setInterval(tick, 1000);
    connect(handlers);
  }

  return { el: el, button: button, act: act, say: say, announce: announce, start: start,
           serverNow: serverNow, clock: clock, alarm: alarm, post: post, hideToast: hideToast };
})();
