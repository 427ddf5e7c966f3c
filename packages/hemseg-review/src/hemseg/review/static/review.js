// Keyboard-first review of one image's white cells: a key per class, Enter confirms, arrows move;
// clicks select. Red cells: a list of classes per cell. Each decision is POSTed at once; the summary
// panel is re-rendered by the server.
(function () {
  "use strict";
  const image = document.body.dataset.image;
  const cards = Array.from(document.querySelectorAll("#gallery .card"));
  const keys = Object.fromEntries(JSON.parse(document.getElementById("keys").textContent));
  let current = 0;

  function select(index, scroll = true) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, index));
    const id = cards[current].dataset.id;
    cards.forEach((c, i) => c.classList.toggle("selected", i === current));
    document.querySelectorAll("polygon.cell").forEach((p) => p.classList.toggle("selected", p.dataset.id === id));
    cards[current].focus({ preventScroll: true });
    if (scroll) cards[current].scrollIntoView({ block: "nearest" });
  }

  async function decide(label) {
    const panel = document.getElementById("summary");
    if (panel.dataset.loading) return; // one decision at a time
    panel.dataset.loading = "1";
    try {
      await send(cards[current], label, panel, true);
    } finally {
      delete panel.dataset.loading;
    }
  }

  // red cells: choices made in quick succession are sent one after the other, none dropped
  let queued = Promise.resolve();
  function decideRed(card, label) {
    const sent = queued.then(() => send(card, label, document.getElementById("summary"), false));
    queued = sent.catch(() => false);
    return sent;
  }

  async function send(card, label, panel, next) {
    const reviewer = document.getElementById("reviewer").value.trim();
    const url = `/api/images/${encodeURIComponent(image)}/cells/${card.dataset.id}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ label: label, reviewer: reviewer || null }),
    });
    if (!response.ok) {
      alert(`Not saved: ${await response.text()}`);
      return false;
    }
    const summary = await fetch(`/images/${encodeURIComponent(image)}/summary`);
    panel.innerHTML = await summary.text();
    // marked done last, with the summary shown and the next cell selected: "done" means settled
    card.classList.add("done");
    card.querySelector(".label").textContent = label === card.dataset.class ? "confirmed" : `\u2192 ${label}`;
    if (next) select(current + 1);
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (["INPUT", "SELECT"].includes(event.target.tagName) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") select(current + 1);
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") select(current - 1);
    else if (event.key === "Enter" && cards.length) decide(cards[current].dataset.class);
    else if (keys[event.key] && cards.length) decide(keys[event.key]);
    else return;
    event.preventDefault();
  });
  cards.forEach((card, i) => card.addEventListener("click", () => select(i)));
  document.querySelectorAll("polygon.cell").forEach((polygon) =>
    polygon.addEventListener("click", () => select(cards.findIndex((c) => c.dataset.id === polygon.dataset.id)))
  );
  document.querySelectorAll("#red-gallery .red-card").forEach((card) => {
    const list = card.querySelector("select.red-label");
    let saved = list.value;
    list.addEventListener("change", async () => {
      if (await decideRed(card, list.value)) saved = list.value;
      else list.value = saved; // not saved: show what is stored
    });
  });
  select(0, false);
})();
