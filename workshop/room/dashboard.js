// The live room's dashboard: polls /api/room every second and redraws.
// Every text from a learner is set with textContent, never parsed as HTML.
"use strict";

const POLL_MS = 1000;
const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
let projector = params.get("view") === "projector";

function api(path) {
  return fetch(path, {
    headers: { Authorization: "Bearer " + token },
    cache: "no-store",
  });
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  return m < 60 ? m + " min " + (s % 60) + " s" : Math.floor(m / 60) + " h " + (m % 60) + " min";
}

function drawCommon(common) {
  const list = document.getElementById("common");
  list.replaceChildren(
    ...common.map((entry) => {
      const item = document.createElement("li");
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = "×" + entry.count;
      const line = document.createElement("span");
      line.className = "line";
      line.textContent = entry.line;
      item.append(count, line);
      return item;
    }),
  );
  document.getElementById("no-common").hidden = common.length > 0;
}

function drawSteps(steps) {
  const body = document.querySelector("#steps tbody");
  body.replaceChildren(
    ...steps.map((step) => {
      const row = document.createElement("tr");
      row.dataset.step = step.number;
      cell(row, step.title);
      cell(row, String(step.here), "here");
      cell(row, String(step.green), "green");
      cell(row, duration(step.median_to_green_s), "median");
      return row;
    }),
  );
}

function drawLearners(learners) {
  const shown = projector
    ? [...learners].sort((a, b) => (b.step ?? -1) - (a.step ?? -1))
    : learners;
  const body = document.querySelector("#learners tbody");
  body.replaceChildren(
    ...shown.map((learner) => {
      const row = document.createElement("tr");
      row.className = "learner" + (learner.stuck ? " stuck" : "");
      if (!projector) {
        row.dataset.id = learner.id;
        cell(row, learner.name, "name");
      }
      cell(row, learner.step === null ? "–" : String(learner.step), "step");
      cell(row, learner.state, "state state-" + learner.state);
      cell(row, duration(learner.on_step_s), "time");
      cell(row, learner.failure || "", "failure");
      return row;
    }),
  );
  document.getElementById("count").textContent = "(" + learners.length + ")";
}

let last = null; // the last room drawn: the projector button redraws it at once

function draw(room) {
  last = room;
  drawCommon(room.common);
  drawSteps(room.steps);
  drawLearners(room.learners);
  const status = document.getElementById("status");
  status.className = "status";
  status.textContent = "live · " + new Date().toLocaleTimeString();
}

async function poll() {
  try {
    const answer = await api("api/room");
    if (!answer.ok) throw new Error("the room answered " + answer.status);
    draw(await answer.json());
  } catch (error) {
    const status = document.getElementById("status");
    status.className = "status down";
    status.textContent = "the room does not answer (" + error.message + ")";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function showProjector(on) {
  projector = on;
  document.body.classList.toggle("projector", on);
  document.getElementById("projector").textContent = on ? "Instructor view" : "Projector view";
  const url = new URL(location.href);
  if (on) url.searchParams.set("view", "projector");
  else url.searchParams.delete("view");
  history.replaceState(null, "", url);
}

async function exportCsv() {
  const answer = await api("api/timings.csv");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = "room-timings.csv";
  link.click();
  URL.revokeObjectURL(link.href);
}

document.getElementById("projector").addEventListener("click", () => {
  showProjector(!projector);
  if (last) drawLearners(last.learners);
});
document.getElementById("export").addEventListener("click", exportCsv);

showProjector(projector);
poll();
