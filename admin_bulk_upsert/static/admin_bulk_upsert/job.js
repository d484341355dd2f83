"use strict";
// The job page's progress: refresh the numbers the server rendered from progress.json
// every second, and reload the page when the job's state changes (preview ready,
// failed ...), so that the server renders what the new state shows. An import
// watched until done ends on the changelist with DIE's message (data-watched-url).
(function () {
  const root = document.getElementById("bulk-upsert-job");
  if (!root || root.dataset.polls !== "true" || !root.dataset.progressUrl) {
    return;
  }
  const renderedState = root.dataset.state;

  function clock(seconds) {
    if (seconds === null || seconds === undefined) {
      return "…";
    }
    const total = Math.round(seconds);
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const secs = String(total % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
  }

  function show(selector, text) {
    const element = root.querySelector(selector);
    if (element) {
      element.textContent = text;
    }
  }

  // Grouped as the page's language groups thousands: 61,000 or 61 000.
  const language = document.documentElement.lang || undefined;
  const count = (value) => Math.round(value).toLocaleString(language);

  function update(progress) {
    const fill = root.querySelector(".bulk-upsert-bar-fill");
    if (fill) {
      fill.style.width = `${progress.percent}%`;
      fill.parentElement.setAttribute("aria-valuenow", String(progress.percent));
    }
    show(".bulk-upsert-percent", String(Math.round(progress.percent)));
    show(".bulk-upsert-rows-done", count(progress.rows_done));
    show(".bulk-upsert-rows-total", progress.rows_total === null ? "…" : count(progress.rows_total));
    show(
      ".bulk-upsert-rate",
      progress.rows_per_second === null ? "…" : count(progress.rows_per_second),
    );
    show(".bulk-upsert-time-left", clock(progress.seconds_left));
  }

  async function poll() {
    let delay = 1000;
    try {
      const response = await fetch(root.dataset.progressUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const progress = await response.json();
        if (progress.state !== renderedState) {
          if (progress.state === "done" && root.dataset.watchedUrl) {
            window.location.assign(root.dataset.watchedUrl);
          } else {
            window.location.reload();
          }
          return;
        }
        update(progress);
      } else {
        delay = 5000;
      }
    } catch (error) {
      delay = 5000; // the server restarts, the network drops: try again later
    }
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, 1000);
})();
