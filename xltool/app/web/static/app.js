// xltool serve: drag and drop, uploads with progress, jobs polled until done. No build step.
"use strict";
const token = document.querySelector('meta[name="xltool-token"]').content;
const $ = (sel) => document.querySelector(sel);

function say(text, bad) {
  const box = $("#message");
  box.textContent = text;
  box.className = "message" + (bad ? " bad" : "");
  box.hidden = !text;
}

function progress(fraction, text) {
  const box = $("#progress");
  box.hidden = fraction === null;
  if (fraction !== null) {
    box.querySelector(".bar span").style.width = Math.round(fraction * 100) + "%";
    box.querySelector(".what").textContent = text || "";
  }
}

// POST with the token in a header (the cookie alone does not change anything: CSRF)
function send(url, body, onUpload) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-Xltool-Token", token);
    if (body && !(body instanceof FormData)) {
      xhr.setRequestHeader("Content-Type", "application/json");
      body = JSON.stringify(body);
    }
    if (onUpload) xhr.upload.onprogress = (e) => e.lengthComputable && onUpload(e.loaded / e.total);
    xhr.onload = () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = { error: xhr.responseText }; }
      resolve({ status: xhr.status, data });
    };
    xhr.onerror = () => resolve({ status: 0, data: { error: "无法连接 xltool serve（已停止？）" } });
    xhr.send(body || null);
  });
}

// a question in the page (never a browser confirm): resolves to the value of the button clicked
function ask(text, choices) {
  return new Promise((resolve) => {
    const box = $("#message");
    box.textContent = text;
    box.className = "message ask";
    box.hidden = false;
    const row = document.createElement("div");
    row.className = "choices";
    for (const [value, label] of choices) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.choice = value;
      button.addEventListener("click", () => { box.hidden = true; resolve(value); });
      row.appendChild(button);
    }
    box.appendChild(row);
  });
}

const REPLACE_CHOICES = [["overwrite", "覆盖"], ["save_as", "另存为"], ["", "取消"]];

async function job(url, body, what) {
  progress(0, what + "……");
  const started = await send(url, body);
  // a file of that name exists: the caller asks (覆盖 / 另存为) before anything is replaced
  if (started.status === 409 && started.data.exists) { progress(null); return { exists: started.data.exists, question: started.data.error }; }
  if (started.status !== 202) { progress(null); say(started.data.error || "出错了", true); return null; }
  let state = started.data;
  while (state.state === "running") {
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch("/api/jobs/" + state.id, { headers: { "X-Xltool-Token": token } });
    state = await res.json();
    const frac = state.total ? state.done / state.total : 0;
    progress(frac, `${what}：${state.done} / ${state.total || "?"} ${state.file || ""}`);
  }
  progress(null);
  if (state.state === "failed") { say(state.message, true); return null; }
  return state.result;
}

async function upload(files, overwrite) {
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  const res = await send("/api/upload" + (overwrite ? "?overwrite=1" : ""), form,
    (f) => progress(f, `上传 ${files.length} 个文件：${Math.round(f * 100)}%`));
  progress(null);
  if (res.status === 409) {
    shown.push(...(res.data.results || []));
    received.push(...(res.data.received || []));
    const again = files.filter((f) => res.data.conflicts.includes(safeName(f.name, res.data.conflicts)));
    if (again.length && await ask(res.data.error, [["1", "覆盖"], ["", "保留原文件"]])) return upload(again, true);
    return received.length > 0;
  }
  if (res.status !== 200) { say(res.data.error || "上传失败", true); return false; }
  shown.push(...(res.data.results || []));
  received.push(...(res.data.received || []));
  return true;
}

// what the last upload received and each file's own result, shown as soon as the upload answers
const shown = [], received = [];
const STATUS = { passed: "通过", warnings: "有警告", errors: "有错误" };

function size(bytes) {
  return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
}

function resultsText() {
  const lines = [`已收到 ${received.length} 个文件：`];
  for (const r of received) {
    const res = shown.find((x) => x.file.endsWith("/" + r.file) || x.file === r.file);
    let line = `${r.file}（${size(r.bytes)}）`;
    if (res && res.message) line += `：${res.message}`;
    else if (res) {
      line += `：${STATUS[res.status] || res.status}`;
      if (res.unit_name) line += `，${res.unit_name}${res.unit_code ? "（" + res.unit_code + "）" : ""}`;
      if (res.errors || res.warnings) line += `，错误 ${res.errors}，警告 ${res.warnings}`;
      const first = (res.findings || []).find((f) => f.severity === "error") || (res.findings || [])[0];
      if (first) line += `。${first.rule}：${first.message}`;
    }
    lines.push(line);
  }
  return lines.join("\n");
}

// the server's name of a file: matched by the end of its name (the server strips folders)
function safeName(name, conflicts) {
  return conflicts.find((c) => name === c || name.endsWith(c)) || name;
}

async function receive(fileList) {
  const files = Array.from(fileList);
  if (!files.length) return;
  shown.length = 0;
  received.length = 0;
  if (await upload(files, false)) {
    const text = resultsText();
    const box = $("#received");
    if (box) { box.textContent = text; box.hidden = false; }
    // then the whole inbox: units not sent, duplicates, the report in 3-校验
    const result = await job("/api/check", null, "更新校验报告");
    if (result) { sessionStorage.setItem("xltool-received", text); location.reload(); }
  }
}

function checked(result) {
  let text = `已校验 ${result.files} 个文件，校验报告：${result.report}`;
  if (result.replaced && result.replaced.length) text += `（替换了网页上次写的 ${result.replaced.join("、")}）`;
  sessionStorage.setItem("xltool-message", text);
  location.reload();
}

document.addEventListener("DOMContentLoaded", () => {
  const zone = $("#dropzone");
  if (zone) {
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
    zone.addEventListener("drop", (e) => receive(e.dataTransfer.files));
    $("#inbox-files").addEventListener("change", (e) => receive(e.target.files));
  }
  const check = $("#check-now");
  if (check) check.addEventListener("click", async () => {
    const result = await job("/api/check", null, "校验");
    if (result) checked(result);
  });

  const roster = $("#roster-form");
  if (roster) roster.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("#roster-file").files[0];
    if (!file) { say("请选择名单文件", true); return; }
    const form = new FormData();
    form.append("file", file, file.name);
    let res = await send("/api/roster", form);
    if (res.status === 409 && await ask(res.data.error, [["1", "替换"], ["", "保留原名单"]])) res = await send("/api/roster?overwrite=1", form);
    if (res.status === 200) location.reload(); else if (res.status !== 409) say(res.data.error, true);
  });
  $("#roster-file")?.addEventListener("change", () => roster.requestSubmit());

  const templates = $("#templates-form");
  if (templates) templates.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await job("/api/templates", { year: $("#templates-year").value }, "生成模板")) location.reload();
  });

  const cons = $("#consolidate-form");
  if (cons) cons.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(cons);
    const body = {
      unit_code: data.get("unit_code"), unit_name: data.get("unit_name"), level: data.get("level"),
      files: data.getAll("files"), exclude_invalid: data.get("exclude_invalid") === "1",
      use: [...data.keys()].filter((k) => k.startsWith("use:")).map((k) => data.get(k)),
    };
    if (!body.files.length) { say("请至少选择一份报表", true); return; }
    let result = await job("/api/consolidate", body, "汇总");
    if (result && result.exists) {
      const choice = await ask(result.question, REPLACE_CHOICES);
      if (!choice) { say("未汇总：已有的汇总表没有改动", false); return; }
      result = await job("/api/consolidate", { ...body, [choice]: "1" }, "汇总");
    }
    if (!result || result.exists) return;
    let text = `已生成汇总表：${result.file}（汇总 ${result.included} 个单位）`;
    if (result.replaced) text += `\n已替换原有的汇总表：${result.replaced}`;
    for (const x of result.excluded) text += `\n未汇总：${x.file}（${x.reason}）`;
    if (result.missing.length) text += `\n名单中未报送：${result.missing.join("、")}`;
    sessionStorage.setItem("xltool-message", text);
    location.reload();
  });
  const pub = $("#publish-form");
  if (pub) pub.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(pub);
    const body = { files: data.getAll("files"), kinds: data.getAll("kinds") };
    if (!body.files.length) { say("请至少选择一份汇总表或报表", true); return; }
    let result = await job("/api/publish", body, "发布");
    if (result && result.exists) {
      const choice = await ask(result.question, REPLACE_CHOICES);
      if (!choice) { say("未发布：已有的文件没有改动", false); return; }
      result = await job("/api/publish", { ...body, [choice]: "1" }, "发布");
    }
    if (!result || result.exists) return;
    let text = "已发布：\n" + result.files.join("\n");
    if (result.replaced.length) text += "\n已替换原有的文件：\n" + result.replaced.join("\n");
    sessionStorage.setItem("xltool-message", text);
    location.reload();
  });
  const cmp = $("#compare-form");
  if (cmp) cmp.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(cmp);
    const result = await job("/api/compare", { last: data.get("last"), this: data.get("this"), factor: data.get("factor") }, "对比");
    if (!result) return;
    say("已生成：" + result.files.join("、"), false);
    $("#comparison").innerHTML = result.html;  // rendered by the server, every text escaped
  });
  const kept = sessionStorage.getItem("xltool-message");
  if (kept) { sessionStorage.removeItem("xltool-message"); say(kept, false); }
  const got = sessionStorage.getItem("xltool-received");
  if (got && $("#received")) { sessionStorage.removeItem("xltool-received"); $("#received").textContent = got; $("#received").hidden = false; }
});
