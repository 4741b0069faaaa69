const express = require("express");
const https = require("https");
const escapeHtml = require("escape-html");
const DOMPurify = require("dompurify");
const _ = require("lodash");

const app = express();
const ALLOWED_REDIRECTS = new Set(["/home", "/profile"]);

function notifyParent(iframe, state) {
  // ruleid: pb.javascript.postmessage-wildcard-origin
  iframe.contentWindow.postMessage({ event: "play" }, "*");
  // ruleid: pb.javascript.postmessage-wildcard-origin
  window.parent.postMessage(JSON.stringify(state), "*");
  // ok: pb.javascript.postmessage-wildcard-origin
  window.parent.postMessage(JSON.stringify(state), "https://app.example.com");
}

// ruleid: pb.javascript.message-listener-no-origin-check
window.addEventListener("message", function (event) {
  document.getElementById("out").textContent = event.data;
});

// ok: pb.javascript.message-listener-no-origin-check
window.addEventListener("message", (event) => {
  if (event.origin !== "https://app.example.com") {
    return;
  }
  document.getElementById("out").textContent = event.data;
});

function Description({ account }) {
  // ruleid: pb.javascript.react-dangerously-set-inner-html
  return <div dangerouslySetInnerHTML={{ __html: account.description }} />;
}

function SafeDescription({ account }) {
  // ok: pb.javascript.react-dangerously-set-inner-html
  return <div dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(account.description) }} />;
}

function PlainDescription({ account }) {
  // ok: pb.javascript.react-dangerously-set-inner-html
  return <p className="card-text">{account.description}</p>;
}

function render(el, comment) {
  // ruleid: pb.javascript.dom-xss-sink
  el.innerHTML = "<p>" + comment + "</p>";
  // ruleid: pb.javascript.dom-xss-sink
  document.write(location.hash.substring(1));
  // ok: pb.javascript.dom-xss-sink
  el.textContent = comment;
  // ok: pb.javascript.dom-xss-sink
  el.innerHTML = DOMPurify.sanitize(comment);
  // ok: pb.javascript.dom-xss-sink
  el.innerHTML = "<p>Loading...</p>";
}

app.get("/hello", (req, res) => {
  const name = req.query.name;
  // ruleid: pb.javascript.express-reflected-xss
  res.send("<h1>Hello " + name + "</h1>");
});

app.get("/hello-safe", (req, res) => {
  // ok: pb.javascript.express-reflected-xss
  res.send("<h1>Hello " + escapeHtml(req.query.name) + "</h1>");
});

app.get("/double", (req, res) => {
  const n = Number.parseFloat(req.query.value);
  // ok: pb.javascript.express-reflected-xss
  res.send(String(n * 2));
});

app.get("/api/hello", (req, res) => {
  // ok: pb.javascript.express-reflected-xss
  res.json({ name: req.query.name });
});

app.get("/login/callback", (req, res) => {
  // ruleid: pb.javascript.open-redirect
  res.redirect(req.query.next);
});

app.get("/go", (req, res) => {
  const target = req.query.next;
  if (!ALLOWED_REDIRECTS.has(target)) {
    return res.redirect("/");
  }
  // ok: pb.javascript.open-redirect
  return res.redirect(target);
});

function search(items, term, userPattern) {
  // ruleid: pb.javascript.regexp-non-literal
  const re = new RegExp(userPattern, "i");
  // ruleid: pb.javascript.regexp-non-literal
  const re2 = new RegExp("^" + term + "$");
  // ok: pb.javascript.regexp-non-literal
  const re3 = new RegExp("^" + _.escapeRegExp(term) + "$");
  // ok: pb.javascript.regexp-non-literal
  const re4 = new RegExp("^[a-z]+$", "i");
  return items.filter((i) => re.test(i) || re2.test(i) || re3.test(i) || re4.test(i));
}

async function load(path) {
  // ruleid: pb.javascript.cleartext-http-request
  const r1 = await fetch("http://api.example.com/data");
  // ruleid: pb.javascript.cleartext-http-request
  const r2 = await fetch("http://api.example.com/items/" + path);
  // ok: pb.javascript.cleartext-http-request
  const r3 = await fetch("https://api.example.com/data");
  // ok: pb.javascript.cleartext-http-request
  const r4 = await fetch("http://localhost:3000/health");
  return [r1, r2, r3, r4];
}

function agents(ca) {
  // ruleid: pb.javascript.tls-verification-disabled
  const insecure = new https.Agent({ rejectUnauthorized: false });
  // ruleid: pb.javascript.tls-verification-disabled
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  // ok: pb.javascript.tls-verification-disabled
  const secure = new https.Agent({ rejectUnauthorized: true, ca });
  return [insecure, secure];
}
