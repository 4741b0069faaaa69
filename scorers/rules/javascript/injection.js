const childProcess = require("child_process");
const { execFile, spawn } = require("child_process");
const path = require("path");
const mysql = require("mysql2");

function evaluate(userInput, data) {
  // ruleid: pb.javascript.eval-non-literal
  const result = eval("(" + userInput + ")");
  // ruleid: pb.javascript.eval-non-literal
  const value = eval(data.expression);
  // ok: pb.javascript.eval-non-literal
  const parsed = JSON.parse(userInput);
  // ok: pb.javascript.eval-non-literal
  const two = eval("1 + 1");
  return [result, value, parsed, two];
}

function compile(body, args, expression) {
  // ruleid: pb.javascript.function-constructor-injection
  const fn = new Function("a", "return " + body);
  // ruleid: pb.javascript.function-constructor-injection
  const fn2 = new Function(args, "return " + expression);
  // ruleid: pb.javascript.function-constructor-injection
  setTimeout("update(" + args + ")", 100);
  // ok: pb.javascript.function-constructor-injection
  const noop = new Function();
  // ok: pb.javascript.function-constructor-injection
  const constant = new Function("a", "b", "return a + b");
  // ok: pb.javascript.function-constructor-injection
  setTimeout(() => update(args), 100);
  return [fn, fn2, noop, constant];
}

function runCommands(fileName, host) {
  // ruleid: pb.javascript.child-process-injection
  childProcess.exec("tar -zcf archive.tgz " + fileName, (err) => console.log(err));
  // ruleid: pb.javascript.child-process-injection
  childProcess.execSync(`ping -c 1 ${host}`);
  // ok: pb.javascript.child-process-injection
  childProcess.exec("which rpmbuild", (err) => console.log(err));
  // ok: pb.javascript.child-process-injection
  execFile("tar", ["-zcf", "archive.tgz", fileName], (err) => console.log(err));
  // ruleid: pb.javascript.child-process-shell-option
  spawn("ping -c 1 " + host, { shell: true });
  // ok: pb.javascript.child-process-shell-option
  spawn("ping", ["-c", "1", host]);
}

function loadPlugin(name, configFile) {
  // ruleid: pb.javascript.non-literal-require
  const plugin = require("./plugins/" + name);
  // ruleid: pb.javascript.non-literal-require
  const config = require(path.join(process.cwd(), configFile));
  // ok: pb.javascript.non-literal-require
  const fs = require("fs");
  const plugins = { csv: require("./plugins/csv"), json: require("./plugins/json") };
  // ok: pb.javascript.non-literal-require
  return [plugin, config, fs, plugins[name]];
}

function findUser(db, req) {
  const id = req.query.id;
  // ruleid: pb.javascript.sql-injection
  db.query("SELECT * FROM users WHERE id = '" + id + "'");
  // ruleid: pb.javascript.sql-injection
  db.query(`DELETE FROM sessions WHERE user = ${id}`);
  const sql = "UPDATE users SET name = '" + req.body.name + "' WHERE id = " + id;
  // ruleid: pb.javascript.sql-injection
  db.execute(sql);
  // ok: pb.javascript.sql-injection
  db.query("SELECT * FROM users WHERE id = ?", [id]);
  // ok: pb.javascript.sql-injection
  db.execute("UPDATE users SET name = ? WHERE id = ?", [req.body.name, id]);
  // ok: pb.javascript.sql-injection
  return mysql.format("SELECT * FROM users WHERE id = ?", [id]);
}
