const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const childProcess = require("child_process");
const DOMPurify = require("dompurify");

function dynamicCode(userInput, data, name) {
  // ruleid: pb.javascript.eval-non-literal-text
  const value = eval("(" + userInput + ")");
  // ok: pb.javascript.eval-non-literal-text
  const parsed = JSON.parse(userInput);
  // ruleid: pb.javascript.function-constructor-text
  const fn = new Function("a", "return " + data.expr);
  // ok: pb.javascript.function-constructor-text
  const add = new Function("a", "b", "return a + b");
  // ruleid: pb.javascript.child-process-exec-text
  childProcess.exec("tar -czf out.tgz " + name, () => {});
  // ok: pb.javascript.child-process-exec-text
  childProcess.execFile("tar", ["-czf", "out.tgz", name], () => {});
  // ruleid: pb.javascript.non-literal-require-text
  const plugin = require("./plugins/" + name);
  // ok: pb.javascript.non-literal-require-text
  const util = require("util");
  return [value, parsed, fn, add, plugin, util];
}

function files(config, name) {
  // ruleid: pb.javascript.fs-non-literal-path-text
  const tpl = fs.readFileSync(config.templateDir + "/" + name, "utf8");
  // ok: pb.javascript.fs-non-literal-path-text
  const key = fs.readFileSync(path.join(__dirname, "keys/server.pem"));
  // ok: pb.javascript.fs-non-literal-path-text
  const cfg = fs.existsSync(path.join("build", "controllers"));
  return [tpl, key, cfg];
}

function patterns(term, items) {
  // ruleid: pb.javascript.regexp-non-literal-text
  const re = new RegExp("^" + term + "$", "i");
  // ok: pb.javascript.regexp-non-literal-text
  const re2 = new RegExp("^[a-z0-9]+$", "i");
  // ok: pb.javascript.regexp-non-literal-text
  const re3 = new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return items.filter((i) => re.test(i) || re2.test(i) || re3.test(i));
}

function auth(req, user) {
  // ruleid: pb.javascript.timing-unsafe-comparison-text
  if (user.password !== req.body.password) {
    return false;
  }
  // ruleid: pb.javascript.timing-unsafe-comparison-text
  if (req.query.sig === user.signature) {
    return true;
  }
  // ok: pb.javascript.timing-unsafe-comparison-text
  if (req.query.token === undefined || user.token.length === 0) {
    return false;
  }
  const a = Buffer.from(req.query.token);
  const b = Buffer.from(user.token);
  // ok: pb.javascript.timing-unsafe-comparison-text
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function Comment({ comment }) {
  // ruleid: pb.javascript.dangerously-set-inner-html-text
  return <div dangerouslySetInnerHTML={{ __html: comment.body }} />;
}

function SafeComment({ comment }) {
  // ok: pb.javascript.dangerously-set-inner-html-text
  return <div dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(comment.body) }} />;
}

function render(el, html) {
  // ruleid: pb.javascript.dom-xss-sink-text
  el.innerHTML = "<b>" + html + "</b>";
  // ok: pb.javascript.dom-xss-sink-text
  el.innerHTML = "";
  // ok: pb.javascript.dom-xss-sink-text
  el.textContent = html;
}

const settings = {
  // ruleid: pb.javascript.hardcoded-credential-text
  password: "hunter2",
  // ok: pb.javascript.hardcoded-credential-text
  apiKey: process.env.API_KEY,
};

module.exports = { dynamicCode, files, patterns, auth, Comment, SafeComment, render, settings };
