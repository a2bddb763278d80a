// hipbot clinic dashboard: the live recipient count and a broadcast's live progress.
"use strict";
(function () {
  const select = document.getElementById("audience");
  const count = document.getElementById("audience-count");
  if (select && count) {
    // per-language texts: those written so far decide who would be skipped for language
    const texts = Array.from(document.querySelectorAll("textarea[data-language]"));
    const skips = document.getElementById("language-skips");
    const skipped = document.getElementById("skipped-count");
    const update = async () => {
      let url = select.dataset.countUrl + "?name=" + encodeURIComponent(select.value);
      if (texts.length) {
        const written = texts.filter((t) => t.value.trim()).map((t) => t.dataset.language);
        url += "&languages=" + encodeURIComponent(written.join(","));
      }
      try {
        const answer = await fetch(url, { credentials: "same-origin" });
        const data = answer.ok ? await answer.json() : { count: "?", skipped: "", skips: false };
        count.textContent = data.count;
        if (skips && skipped) {
          skipped.textContent = data.skipped;
          skips.hidden = !data.skips;
        }
      } catch (error) { count.textContent = "?"; }
    };
    select.addEventListener("change", update);
    for (const text of texts) { text.addEventListener("change", update); }
    update();
  }
  const bar = document.getElementById("bar");
  if (bar && bar.dataset.url) {
    const poll = async () => {
      let done = false;
      try {
        const answer = await fetch(bar.dataset.url, { credentials: "same-origin" });
        if (answer.ok) {
          const data = await answer.json();
          bar.value = data.percent;
          bar.textContent = data.percent + "%";
          document.getElementById("percent").textContent = data.percent + "%";
          document.getElementById("state").textContent = data.state;
          for (const cell of document.querySelectorAll("[data-count]")) {
            cell.textContent = data[cell.dataset.count];
          }
          done = data.finished;
          const cancel = document.getElementById("cancel");
          if (done && cancel) { cancel.remove(); }
        }
      } catch (error) { /* try again next time */ }
      if (!done) { setTimeout(poll, 1000); }
    };
    setTimeout(poll, 1000);
  }
})();
