// Opens every page of the built dashboard (dist/) in headless Chromium, saves a screenshot of
// each, and checks in the DOM that every chart drew data marks and that no cell failed.
// Usage: node check.mjs <screenshot dir>   Prints one line per page and a JSON summary; exits 1
// on any failure.
import {chromium} from "playwright-core";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), "dist");
const shots = path.resolve(process.argv[2] || "screenshots");
fs.mkdirSync(shots, {recursive: true});
// page -> charts it must show (by aria-label), each with data marks
const pages = {
  "index": ["customers per segment", "revenue and added revenue per segment"],
  "development": ["members over time", "joined and left", "life-cycle segments over time"],
  "matrix": ["contacts", "lifetime revenue"],
  "cohorts": ["retention by months since first order", "new customers per cohort"],
  "new-returning-lapsed": ["customers per month", "revenue per month"],
  "members": ["CLV so far vs predicted CLV"]
};

// A static file server for dist/ (the pages link each other with .html: cleanUrls is off).
const types = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"};
const server = http.createServer((req, res) => {
  let p = decodeURIComponent(new URL(req.url, "http://x").pathname);
  if (p.endsWith("/")) p += "index";
  let file = path.join(dist, p);
  if (!file.startsWith(dist)) return res.writeHead(403).end();
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file += ".html";
  if (!fs.existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, {"content-type": types[path.extname(file)] || "application/octet-stream"});
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;

// A fresh profile each run (removed at the end).
const profile = fs.mkdtempSync("/tmp/pgs-chromium-");
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: {width: 1280, height: 900},
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
});
const dataMarks = ["bar", "cell", "line", "dot", "rect"];
const summary = {pages: 0, charts: 0, failures: [], screenshots: []};
try {
  for (const [name, charts] of Object.entries(pages)) {
    const page = await browser.newPage();
    const offsite = [];
    page.on("request", (r) => { if (!r.url().startsWith(base)) offsite.push(r.url()); });
    await page.goto(`${base}/${name}.html`, {waitUntil: "networkidle"});
    await page.waitForFunction((n) => document.querySelectorAll('svg[aria-label^="chart:"]').length >= n,
                               charts.length, {timeout: 30000}).catch(() => {});
    const found = await page.evaluate((marks) => {
      const out = {};
      for (const svg of document.querySelectorAll('svg[aria-label^="chart:"]')) {
        const groups = [...svg.querySelectorAll("g[aria-label]")].filter((g) => marks.includes(g.getAttribute("aria-label")));
        // a mark drawn with data: a rect/path/circle with a size
        out[svg.getAttribute("aria-label").slice(7)] = groups.flatMap((g) => [...g.querySelectorAll("rect, path, circle")])
          .filter((e) => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length;
      }
      return {charts: out, errors: [...document.querySelectorAll(".observablehq--error")].map((e) => e.textContent.slice(0, 200))};
    }, dataMarks);
    const file = path.join(shots, `${name}.png`);
    await page.screenshot({path: file, fullPage: true});
    const bytes = fs.statSync(file).size;
    summary.screenshots.push({page: name, bytes});
    for (const chart of charts) {
      const n = found.charts[chart] || 0;
      if (n === 0) summary.failures.push(`${name}: chart "${chart}" ${chart in found.charts ? "has no data marks" : "missing"}`);
      else summary.charts++;
    }
    for (const e of found.errors) summary.failures.push(`${name}: error in page: ${e}`);
    for (const u of offsite) summary.failures.push(`${name}: requested ${u} (the dashboard must need no network)`);
    console.log(`${found.errors.length || charts.some((c) => !found.charts[c]) ? "FAIL" : "ok"} - ${name}: ` +
      Object.entries(found.charts).map(([c, n]) => `${c} (${n} marks)`).join(", ") + `; screenshot ${bytes} bytes`);
    summary.pages++;
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
console.log(JSON.stringify(summary));
process.exit(summary.failures.length ? 1 : 0);
