import os
import re
from urllib.parse import urlparse

import jinja2
import requests
from flask import Flask, Response, escape, make_response, redirect, render_template, render_template_string, request, url_for

app = Flask(__name__)

ALLOWED_HOSTS = {"example.com", "www.example.com"}


@app.route("/go")
def go():
    target = request.args.get("next")
    # ruleid: pb.python.open-redirect
    return redirect(target)


@app.route("/go2")
def go2():
    # ruleid: pb.python.open-redirect
    return redirect(location=request.args["url"], code=302)


@app.route("/go-safe")
def go_safe():
    target = request.args.get("next", "")
    if urlparse(target).netloc not in ("", "example.com"):
        target = url_for("index")
    # ok: pb.python.open-redirect
    return redirect(target)


@app.route("/go-safe2")
def go_safe2():
    # ok: pb.python.open-redirect
    return redirect(url_for("profile", user=request.args.get("user")))


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    # ruleid: pb.python.flask-reflected-xss
    return "<h1>Hello " + name + "</h1>"


@app.route("/hello2")
def hello2():
    name = request.args.get("name", "")
    # ruleid: pb.python.flask-reflected-xss
    resp = make_response(f"<p>Your name is {name}</p>")
    return resp


@app.route("/hello-safe")
def hello_safe():
    name = request.args.get("name", "")
    # ok: pb.python.flask-reflected-xss
    return "<h1>Hello " + escape(name) + "</h1>"


@app.route("/hello-template")
def hello_template():
    # ok: pb.python.flask-reflected-xss
    return render_template("hello.html", name=request.args.get("name"))


@app.route("/api/echo")
def echo():
    # ok: pb.python.flask-reflected-xss
    return {"name": request.args.get("name")}


@app.route("/render")
def render():
    template = request.args.get("template", "")
    # ruleid: pb.python.server-side-template-injection
    return render_template_string(template)


@app.route("/render-safe")
def render_safe():
    # ok: pb.python.server-side-template-injection
    return render_template_string("<p>Hello {{ name }}</p>", name=request.args.get("name"))


@app.route("/fetch")
def fetch():
    url = request.args.get("url")
    # ruleid: pb.python.ssrf-request-url
    r = requests.get(url, timeout=5)
    return r.text


@app.route("/fetch-safe")
def fetch_safe():
    url = request.args.get("url", "")
    if urlparse(url).hostname not in ALLOWED_HOSTS:
        return "forbidden", 403
    # ok: pb.python.ssrf-request-url
    r = requests.get("https://api.example.com/v1/status", timeout=5)
    return r.text


def make_env(path):
    # ruleid: pb.python.jinja2-autoescape-disabled
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(path))
    # ruleid: pb.python.jinja2-autoescape-disabled
    env2 = jinja2.Environment(autoescape=False)
    # ok: pb.python.jinja2-autoescape-disabled
    env3 = jinja2.Environment(loader=jinja2.FileSystemLoader(path), autoescape=jinja2.select_autoescape(["html", "xml"]))
    return env, env2, env3


def check_url(url):
    # ruleid: pb.python.incomplete-hostname-regex
    if re.match("(www|beta).example.com", url):
        return True
    # ruleid: pb.python.incomplete-hostname-regex
    pattern = re.compile(r"^https?://www.example.com/")
    # ok: pb.python.incomplete-hostname-regex
    safe = re.compile(r"^https?://(www|beta)\.example\.com/")
    # ok: pb.python.incomplete-hostname-regex
    words = re.findall(r"\w+", url)
    return pattern, safe, words


@app.route("/redirect")
def redirect_checked():
    target = request.args.get("target", "")
    # ruleid: pb.python.incomplete-url-substring-check
    if "example.com" in target:
        # ruleid: pb.python.open-redirect
        return redirect(target)
    # ruleid: pb.python.incomplete-url-substring-check
    if target.endswith("example.com"):
        return "ok"
    # ok: pb.python.incomplete-url-substring-check
    if urlparse(target).hostname in ALLOWED_HOSTS:
        return "ok"
    return "no"


if __name__ == "__main__":
    # ok: pb.python.flask-debug-enabled
    app.run(host="127.0.0.1", debug=os.environ.get("FLASK_DEBUG") == "1")
    # ruleid: pb.python.flask-debug-enabled
    app.run(debug=True)
