"use strict";
(function () {
  // A manager's token in the fragment (never sent to the server), as the staff screens take it.
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  const token = m ? decodeURIComponent(m[1]) : null;
  let venue = null;
  try { venue = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).venue; } catch (e) { venue = null; }
  const err = document.getElementById("error");
  function fail(text) { err.textContent = text; err.hidden = false; }
  if (!token || !venue) { fail("Open this page with a manager's link from `maitre token --role manager`."); return; }
  function secs(s) { return s === null ? "–" : s < 90 ? Math.round(s) + " s" : (s / 60).toFixed(1) + " min"; }
  function pct(x) { return x === null ? "–" : Math.round(x * 100) + " %"; }
  async function load() {
    const days = document.getElementById("days").value;
    const r = await fetch("/api/venues/" + encodeURIComponent(venue) + "/insights?days=" + days, { headers: { Authorization: "Bearer " + token } });
    if (!r.ok) { fail("Could not load the figures (" + r.status + ")."); return; }
    const f = await r.json();
    document.getElementById("title").textContent = "Insights · " + f.venue;
    const rows = [
      ["Reservations", f.reservations],
      ["Parties that came", f.arrived],
      ["Greeted by name", f.greeted_by_name + " (" + pct(f.greeted_share) + ")"],
      ["Arrival → seated, median", secs(f.arrival_to_seat_s.median) + " (p90 " + secs(f.arrival_to_seat_s.p90) + ", n=" + f.arrival_to_seat_s.n + ")"],
      ["Kitchen lead gained, median", secs(f.kitchen_lead_s.median) + " (n=" + f.kitchen_lead_s.n + ")"],
      ["Kitchen started on arrival", f.kitchen_started_on_arrival],
      ["Repeat visits", f.repeat_guests + " (" + pct(f.repeat_rate) + ")"],
    ];
    const body = document.querySelector("#figures tbody");
    body.replaceChildren.apply(body, rows.map(function (row) {
      const tr = document.createElement("tr");
      row.forEach(function (v, i) { const c = document.createElement(i ? "td" : "th"); c.textContent = String(v); tr.appendChild(c); });
      return tr;
    }));
  }
  document.getElementById("days").addEventListener("change", load);
  document.getElementById("csv").addEventListener("click", async function (e) {
    e.preventDefault();
    const r = await fetch("/api/venues/" + encodeURIComponent(venue) + "/followups.csv?days=" + document.getElementById("days").value, { headers: { Authorization: "Bearer " + token } });
    if (!r.ok) { fail("Could not export (" + r.status + ")."); return; }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = venue + "-followups.csv";
    a.click();
  });
  load();
})();
