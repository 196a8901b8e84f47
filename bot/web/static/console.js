// The console's one script: refresh the live jobs, ask before cancelling, draw the charts.
"use strict";

function refreshLive(box) {
  const every = Number(box.dataset.refresh) || 3000;
  setInterval(async () => {
    try {
      const answer = await fetch(window.location.href, { credentials: "same-origin" });
      if (!answer.ok || answer.redirected) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById("live");
      if (fresh) box.replaceChildren(...fresh.childNodes);
    } catch (_) {
      // the bot is restarting: try again at the next tick
    }
  }, every);
}

function askBeforeSubmit() {
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
}

// Long labels (a failure's sentence) are cut on the axis; the tooltip shows them whole.
function shortLabel(value) {
  const label = this.getLabelForValue(value);
  return typeof label === "string" && label.length > 28 ? label.slice(0, 27) + "…" : label;
}

function drawCharts() {
  const source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  for (const [name, series] of Object.entries(data)) {
    const canvas = document.getElementById("chart-" + name);
    if (!canvas) continue;
    const line = canvas.dataset.kind === "line";
    new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: series.labels,
        datasets: [{
          label: series.label,
          data: series.values,
          borderColor: "#2563eb",
          backgroundColor: line ? "rgba(37, 99, 235, 0.15)" : "#60a5fa",
          fill: line,
          tension: 0,
        }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: name === "failures" ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0, callback: shortLabel } },
        },
      },
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) refreshLive(live);
  askBeforeSubmit();
  drawCharts();
});
