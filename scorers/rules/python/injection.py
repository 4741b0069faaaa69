import logging
import os
import sqlite3
import subprocess
from subprocess import check_output

from flask import Flask, request

app = Flask(__name__)
logger = logging.getLogger(__name__)


def shell_commands(filename, host, cmd):
    # ruleid: pb.python.os-system-injection
    os.system("rm -rf " + filename)
    # ruleid: pb.python.os-system-injection
    os.system("ping -c 1 %s" % host)
    # ruleid: pb.python.os-system-injection
    out = os.popen(cmd).read()
    # ruleid: pb.python.os-system-injection
    status = subprocess.getoutput(f"ls {filename}")
    # ok: pb.python.os-system-injection
    os.system("clear")
    # ok: pb.python.os-system-injection
    subprocess.run(["rm", "-rf", "--", filename], check=True)
    return out, status


def subprocess_calls(filename, cmd):
    # ruleid: pb.python.subprocess-shell-injection
    subprocess.call("gzip -cd %s" % filename, shell=True)
    # ruleid: pb.python.subprocess-shell-injection
    subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE)
    # ruleid: pb.python.subprocess-shell-injection
    results = check_output(cmd, shell=True)
    # ruleid: pb.python.subprocess-shell-injection
    subprocess.run("unzip {}".format(filename), shell=True, check=True)
    # ok: pb.python.subprocess-shell-injection
    subprocess.run(["gzip", "-cd", filename], check=True)
    # ok: pb.python.subprocess-shell-injection
    subprocess.check_call(cmd.split(), shell=False)
    # ruleid: pb.python.subprocess-shell-true
    subprocess.call("ls -l /tmp", shell=True)
    # ruleid: pb.python.subprocess-shell-true
    subprocess.check_output(["amixer set Master 5%+"], shell=True)
    # ok: pb.python.subprocess-shell-true
    subprocess.call(["ls", "-l", "/tmp"])
    return results


def evaluation(user_expr, module, code, namespace):
    import ast

    # ruleid: pb.python.eval-injection
    value = eval(user_expr)
    # ruleid: pb.python.eval-injection
    func = eval("distributions.%s.ppf" % module)
    # ok: pb.python.eval-injection
    safe = ast.literal_eval(user_expr)
    # ok: pb.python.eval-injection
    const = eval("1 + 2")
    # ruleid: pb.python.exec-injection
    exec(code)
    # ruleid: pb.python.exec-injection
    exec("import %s" % module, namespace)
    # ruleid: pb.python.exec-injection
    exec(compile(open(code).read(), code, "exec"), namespace)
    # ok: pb.python.exec-injection
    exec("x = 1", namespace)
    return value, func, safe, const


def queries(conn, username, password, table, record_id):
    cur = conn.cursor()
    # ruleid: pb.python.sql-injection-string-building
    cur.execute("SELECT * FROM users WHERE name = '%s' AND pw = '%s'" % (username, password))
    # ruleid: pb.python.sql-injection-string-building
    cur.execute("SELECT * FROM problem WHERE id={id};".format(id=record_id))
    # ruleid: pb.python.sql-injection-string-building
    cur.execute(f"DELETE FROM users WHERE name = '{username}'")
    # ruleid: pb.python.sql-injection-string-building
    cur.execute("select * from " + table + ";")
    query = "UPDATE users SET pw = '%s' WHERE name = '%s'" % (password, username)
    # ruleid: pb.python.sql-injection-string-building
    cur.execute(query)
    # ok: pb.python.sql-injection-string-building
    cur.execute("SELECT * FROM users WHERE name = ? AND pw = ?", (username, password))
    # ok: pb.python.sql-injection-string-building
    cur.execute("SELECT * FROM users WHERE name = %s", (username,))
    # ok: pb.python.sql-injection-string-building
    cur.execute("SHOW TABLES;")
    return cur.fetchall()


@app.route("/login")
def login():
    user = request.args.get("user", "")
    # ruleid: pb.python.log-injection
    logging.info("login attempt for %s" % user)
    # ruleid: pb.python.log-injection
    app.logger.warning("failed login: " + request.form["name"])
    clean = user.replace("\r", "").replace("\n", "")
    # ok: pb.python.log-injection
    logger.info("login attempt for %s", clean)
    # ok: pb.python.log-injection
    logging.info("login endpoint called")
    return "ok"
