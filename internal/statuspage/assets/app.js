// The live fleet page: one EventSource; every "state" event carries the
// whole snapshot, which is rendered as it is (no diffing needed at 1,000
// rows). Text goes in through textContent only: keys and causes are
// untrusted.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const words = { up_to_date: "up to date" };
  let last = null;
  let selected = null; // [key, board] of the cell whose detail is open

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function when(iso) {
    if (!iso) return "never";
    const d = new Date(iso);
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
  }

  function renderBoards(boards) {
    const ul = $("boards");
    const frag = document.createDocumentFragment();
    for (const b of boards) {
      const li = el("li", "board");
      li.dataset.board = b.name;
      li.append(el("span", "state " + (b.connected ? "connected" : "offline"), b.connected ? "connected" : "offline"));
      li.append(el("div", "name", b.name));
      const dl = el("dl");
      const row = (k, v) => { dl.append(el("dt", "", k), el("dd", "", v)); };
      row("groups", b.groups && b.groups.length ? b.groups.join(", ") : "none");
      row("running tasks", String(b.runningTasks));
      row("last sync", b.lastSync ? when(b.lastSync) + (b.syncStatus ? " (" + b.syncStatus + ")" : "") : "never");
      row("missing", b.missing < 0 ? "unknown" : String(b.missing));
      li.append(dl);
      frag.append(li);
    }
    ul.replaceChildren(frag);
  }

  function renderGrid(boards, objects) {
    const names = boards.map((b) => b.name);
    for (const o of objects) for (const n of Object.keys(o.cells)) if (!names.includes(n)) names.push(n);
    const head = el("tr");
    head.append(el("th", "", "object"));
    for (const n of names) { const th = el("th", "", n); th.scope = "col"; head.append(th); }
    const body = document.createDocumentFragment();
    for (const o of objects) {
      const tr = el("tr");
      const th = el("th", "", o.key);
      th.scope = "row";
      th.title = o.key;
      tr.append(th);
      for (const n of names) {
        const c = o.cells[n];
        const td = document.createElement("td");
        if (c) {
          // A cell with a cause is a button (tap it for the cause); a
          // plain outcome is text: 1,000 rows stay light to lay out.
          const word = words[c.status] || c.status;
          if (c.cause) {
            const b = el("button", "s " + c.status, word);
            b.type = "button";
            b.dataset.key = o.key;
            b.dataset.board = n;
            b.title = c.cause;
            td.append(b);
          } else {
            const sp = el("span", "s " + c.status, word);
            sp.dataset.key = o.key;
            sp.dataset.board = n;
            td.append(sp);
          }
        }
        tr.append(td);
      }
      body.append(tr);
    }
    const table = $("grid");
    const cols = document.createElement("colgroup");
    cols.append(el("col", "key"));
    for (let i = 0; i < names.length; i++) cols.append(el("col", "board"));
    const old = table.querySelector("colgroup");
    if (old) old.replaceWith(cols); else table.prepend(cols);
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(body);
    $("empty").hidden = objects.length > 0;
  }

  function renderDetail() {
    const d = $("detail");
    if (!selected || !last) { d.hidden = true; return; }
    const o = last.objects.find((x) => x.key === selected[0]);
    const c = o && o.cells[selected[1]];
    if (!c) { d.hidden = true; return; }
    const p = (k, v) => { const e = el("p"); e.append(el("strong", "", k + ": "), document.createTextNode(v)); return e; };
    d.replaceChildren(el("h3", "", o.key + " on " + selected[1]), p("status", c.status));
    if (c.cause) d.append(p("cause", c.cause));
    if (c.version) d.append(p("version", c.version));
    if (c.at) d.append(p("when", when(c.at)));
    d.hidden = false;
  }

  function render(s) {
    const t0 = performance.now();
    last = s;
    $("where").textContent = s.name;
    const err = $("error");
    err.hidden = !s.error;
    err.textContent = s.error ? "Could not refresh: " + s.error : "";
    const note = $("note");
    note.hidden = !s.note;
    note.textContent = s.note || "";
    renderBoards(s.boards);
    renderGrid(s.boards, s.objects);
    renderDetail();
    document.body.dataset.rendered = String((Number(document.body.dataset.rendered) || 0) + 1);
    document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
    if (!document.body.dataset.firstPaint) { // ms since navigation, once the first data is on screen
      requestAnimationFrame(() => setTimeout(() => { document.body.dataset.firstPaint = String(Math.round(performance.now())); }));
    }
  }

  $("grid").addEventListener("click", (e) => {
    const b = e.target.closest(".s[data-board]");
    if (!b) return;
    selected = [b.dataset.key, b.dataset.board];
    renderDetail();
  });

  const live = $("live");
  const es = new EventSource("events");
  es.addEventListener("state", (e) => {
    if (!document.body.dataset.dataAt) document.body.dataset.dataAt = String(Math.round(performance.now()));
    live.textContent = "live";
    live.classList.add("on");
    render(JSON.parse(e.data));
  });
  es.onerror = () => { live.textContent = "reconnecting…"; live.classList.remove("on"); };
})();
