// The workbench's keyboard-first grading. Talks to the JSON API with the token in a header.
"use strict";

const TOKEN = document.querySelector('meta[name="review-token"]').content;

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Review-Token": TOKEN },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  return { ok: response.ok, data };
}

const reviewerInput = document.getElementById("reviewer");
if (reviewerInput) {
  reviewerInput.value = localStorage.getItem("grader-reviewer") || "";
  reviewerInput.addEventListener("change", () => localStorage.setItem("grader-reviewer", reviewerInput.value));
}

// --- a grading form ---------------------------------------------------------------------------

function formState(form) {
  const max = parseFloat(form.dataset.max);
  const boxes = [...form.querySelectorAll('input[name="item"]')];
  const sum = () => boxes.filter(b => b.checked).reduce((a, b) => a + parseFloat(b.dataset.points), 0);
  const scoreInput = form.querySelector(".score");
  // the points given beyond the rubric items, kept while items are toggled
  let adjustment = scoreInput.value === "" ? 0 : parseFloat(scoreInput.value) - max - sum();
  scoreInput.addEventListener("input", () => {
    const value = parseFloat(scoreInput.value);
    if (!Number.isNaN(value)) adjustment = value - max - sum();
  });
  boxes.forEach(b => b.addEventListener("change", () => {
    const score = Math.min(Math.max(max + sum() + adjustment, 0), max);
    scoreInput.value = String(Math.round(score * 1e6) / 1e6);
  }));
  return { boxes, scoreInput };
}

async function save(form) {
  const status = form.querySelector(".status");
  const students = JSON.parse(form.dataset.students);
  const versions = JSON.parse(form.dataset.versions);
  const raw = form.querySelector(".score").value.trim();
  const body = {
    check: form.dataset.check,
    score: raw === "" ? null : Number(raw),
    comment: form.querySelector(".comment").value,
    items: [...form.querySelectorAll('input[name="item"]:checked')].map(b => Number(b.value)),
    reviewer: reviewerInput ? reviewerInput.value : "",
  };
  if (raw === "" || Number.isNaN(body.score)) {
    status.className = "status error";
    status.textContent = `Type a score between 0 and ${form.dataset.max}.`;
    return false;
  }
  let result;
  if (students.length === 1) {
    result = await post("/api/grade", { ...body, student: students[0], seen: versions[students[0]] });
  } else {
    result = await post("/api/grade-group", { ...body, students, seen: versions });
  }
  if (!result.ok) {
    status.className = "status error";
    status.setAttribute("role", "alert");
    status.textContent = `Not saved: ${result.data.error}`;
    return false;
  }
  const rows = Array.isArray(result.data) ? result.data : [result.data];
  const newVersions = {};
  rows.forEach(r => { newVersions[r.student] = r.version; });
  form.dataset.versions = JSON.stringify(newVersions);
  const replaced = rows.filter(r => r.replaced);
  const first = rows[0];
  const who = first.reviewer ? ` by ${first.reviewer}` : "";
  status.className = replaced.length ? "status warn" : "status";
  status.textContent = `Saved: ${first.score} / ${first.max_score}${who}` +
    (rows.length > 1 ? ` for all ${rows.length} answers.` : ".");
  if (replaced.length) {
    const r = replaced[0].replaced;
    status.textContent += ` Another reviewer${r.reviewer ? " (" + r.reviewer + ")" : ""} had graded ` +
      `${replaced.length > 1 ? replaced.length + " of these" : "this"} ${r.score} at ${r.graded_at} ` +
      "since you opened it; your grade replaced theirs (the last save wins).";
  }
  const panel = form.closest(".panel");
  if (panel) panel.classList.add("done");
  updateProgress();
  return true;
}

function updateProgress() {
  const progress = document.getElementById("progress");
  if (!progress) return;
  let graded = 0;
  document.querySelectorAll(".panel").forEach(panel => {
    const form = panel.querySelector(".grade-form");
    if (panel.classList.contains("done")) graded += JSON.parse(form.dataset.students).length;
  });
  progress.textContent = `${graded} of ${progress.dataset.count} graded`;
}

document.querySelectorAll(".grade-form").forEach(form => {
  formState(form);
  form.addEventListener("submit", async event => {
    event.preventDefault();
    if (await save(form) && form.closest(".panel")) go(1, true);
  });
  form.querySelector(".score").addEventListener("keydown", event => {
    if (event.key === "Enter") { event.preventDefault(); form.requestSubmit(); }
  });
  form.querySelector(".comment").addEventListener("keydown", event => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
  });
});

// --- grading by question: one panel at a time ---------------------------------------------

const panels = [...document.querySelectorAll(".panel")];
let current = 0;

function show(index) {
  if (!panels.length) return;
  current = Math.max(0, Math.min(index, panels.length - 1));
  panels.forEach((p, i) => { p.hidden = i !== current; });
  history.replaceState(null, "", `#${current + 1}`);
  panels[current].querySelector(".score").focus();
}

function go(step, ungradedFirst) {
  if (ungradedFirst) {
    for (let i = 1; i <= panels.length; i++) {
      const j = current + i;
      if (j < panels.length && !panels[j].classList.contains("done")) { show(j); return; }
    }
  }
  show(current + step);
}

if (panels.length) {
  const fromHash = parseInt(location.hash.slice(1), 10);
  show(Number.isNaN(fromHash) ? 0 : fromHash - 1);
  document.addEventListener("keydown", event => {
    const field = event.target.closest && event.target.closest("input, textarea, select, button");
    if (event.key === "Escape" && field) { field.blur(); return; }
    if (field || event.ctrlKey || event.metaKey || event.altKey) return;
    const form = panels[current].querySelector(".grade-form");
    if (event.key === "j" || event.key === "ArrowRight") show(current + 1);
    else if (event.key === "k" || event.key === "ArrowLeft") show(current - 1);
    else if (event.key === "n") go(1, true);
    else if (event.key === "s" || event.key === "Enter") form.querySelector(".score").focus();
    else if (event.key === "c") form.querySelector(".comment").focus();
    else if (/^[1-9]$/.test(event.key)) {
      const box = form.querySelectorAll('input[name="item"]')[Number(event.key) - 1];
      if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change")); }
      form.querySelector(".score").focus();  // Enter now saves the score the items make
    } else return;
    event.preventDefault();
  });
}

// --- rubric items ---------------------------------------------------------------------------

document.querySelectorAll(".rubric-add, .rubric-edit").forEach(form => {
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const status = form.querySelector(".status");
    const points = Number(form.querySelector('[name="points"]').value.replace("−", "-"));
    const text = form.querySelector('[name="text"]').value;
    const result = form.dataset.item
      ? await post(`/api/rubric/${form.dataset.item}`, { points, text })
      : await post("/api/rubric", { check: form.dataset.check, points, text });
    if (!result.ok) {
      status.className = "status error";
      status.textContent = `Not saved: ${result.data.error}`;
      return;
    }
    location.reload();  // every form shows the new item (and the regraded scores)
  });
});

// --- overrides of automatic checks (student page) ----------------------------------------

document.querySelectorAll(".override-form").forEach(form => {
  const send = async score => {
    const status = form.querySelector(".status");
    const result = await post("/api/override", {
      student: form.dataset.student,
      check: form.dataset.check,
      score,
      reason: form.querySelector(".override-reason").value,
      reviewer: reviewerInput ? reviewerInput.value : "",
    });
    if (!result.ok) {
      status.className = "status error";
      status.setAttribute("role", "alert");
      status.textContent = `Not saved: ${result.data.error}`;
      return;
    }
    location.reload();  // the row, the total and the report links show the new score
  };
  form.addEventListener("submit", event => {
    event.preventDefault();
    const raw = form.querySelector(".override-score").value.trim();
    if (raw === "" || Number.isNaN(Number(raw))) {
      const status = form.querySelector(".status");
      status.className = "status error";
      status.textContent = "Type the score that replaces the check's, and a reason.";
      return;
    }
    send(Number(raw));
  });
  const clear = form.querySelector(".override-clear");
  if (clear) clear.addEventListener("click", () => send(null));
});
