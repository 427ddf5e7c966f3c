// Keyboard-first review of one image: a key per class, Enter confirms, arrows move; clicks select.
// Each decision is POSTed at once; the summary panel is re-rendered by the server.
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
    const card = cards[current];
    const panel = document.getElementById("summary");
    if (panel.dataset.loading) return; // one decision at a time
    panel.dataset.loading = "1";
    try {
      await send(card, label, panel);
    } finally {
      delete panel.dataset.loading;
    }
  }

  async function send(card, label, panel) {
    const reviewer = document.getElementById("reviewer").value.trim();
    const url = `/api/images/${encodeURIComponent(image)}/cells/${card.dataset.id}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ label: label, reviewer: reviewer || null }),
    });
    if (!response.ok) {
      alert(`Not saved: ${await response.text()}`);
      return;
    }
    card.classList.add("done");
    card.querySelector(".label").textContent = label === card.dataset.class ? "confirmed" : `\u2192 ${label}`;
    const summary = await fetch(`/images/${encodeURIComponent(image)}/summary`);
    panel.innerHTML = await summary.text();
    select(current + 1);
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT" || event.ctrlKey || event.metaKey || event.altKey) return;
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
  select(0, false);
})();
