const fs = require("fs");
const path = require("path");
const express = require("express");

const app = express();
const BASE = path.join(__dirname, "uploads");

app.get("/file", (req, res) => {
  const name = req.query.name;
  // ruleid: pb.javascript.path-traversal, pb.javascript.fs-non-literal-path
  const data = fs.readFileSync(path.join(BASE, name), "utf8");
  res.type("text/plain").send(data);
});

app.get("/download", (req, res) => {
  // ruleid: pb.javascript.path-traversal
  res.download(BASE + "/" + req.params.file);
});

app.get("/file-safe", (req, res) => {
  const full = path.resolve(BASE, path.basename(req.query.name));
  // ok: pb.javascript.path-traversal
  res.sendFile(full);
});

app.get("/file-checked", (req, res) => {
  const full = path.resolve(BASE, req.query.name);
  if (!full.startsWith(BASE + path.sep)) {
    return res.status(403).end();
  }
  // ok: pb.javascript.path-traversal
  return res.sendFile(full);
});

function readTemplate(config, templateName) {
  // ruleid: pb.javascript.fs-non-literal-path
  const tpl = fs.readFileSync(config.templateDir + "/" + templateName, "utf8");
  // ok: pb.javascript.fs-non-literal-path
  const key = fs.readFileSync(path.join(__dirname, "keys/server.pem"));
  // ok: pb.javascript.fs-non-literal-path
  const cfg = fs.readFileSync("./config.json", "utf8");
  return [tpl, key, cfg];
}
