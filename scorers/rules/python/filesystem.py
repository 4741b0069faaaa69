import os
import stat
import tarfile
import tempfile

from flask import Flask, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)
BASE_DIR = "/srv/files"


@app.route("/read")
def read_file():
    name = request.args.get("name")
    # ruleid: pb.python.path-traversal
    with open(os.path.join(BASE_DIR, name)) as fh:
        return fh.read()


@app.route("/download")
def download():
    # ruleid: pb.python.path-traversal
    return send_file("/srv/files/" + request.args["file"])


@app.route("/read-safe")
def read_file_safe():
    name = secure_filename(request.args.get("name", ""))
    # ok: pb.python.path-traversal
    with open(os.path.join(BASE_DIR, name)) as fh:
        return fh.read()


@app.route("/read-checked")
def read_checked():
    path = os.path.realpath(os.path.join(BASE_DIR, request.args.get("name", "")))
    if not path.startswith(BASE_DIR + os.sep):
        return "forbidden", 403
    # ok: pb.python.path-traversal
    with open(path) as fh:
        return fh.read()


@app.route("/download-safe")
def download_safe():
    # ok: pb.python.path-traversal
    return send_from_directory(BASE_DIR, request.args["file"])


def extract(archive_path, dest):
    with tarfile.open(archive_path) as tar:
        # ruleid: pb.python.tarfile-extractall-traversal
        tar.extractall(dest)
    tf = tarfile.open(archive_path, "r:gz")
    # ruleid: pb.python.tarfile-extractall-traversal
    tf.extractall()
    with tarfile.open(archive_path) as tar:
        # ok: pb.python.tarfile-extractall-traversal
        tar.extractall(dest, filter="data")


def temp_files():
    # ruleid: pb.python.insecure-tempfile-mktemp
    name = tempfile.mktemp(suffix=".txt")
    # ok: pb.python.insecure-tempfile-mktemp
    fd, safe_name = tempfile.mkstemp(suffix=".txt")
    # ok: pb.python.insecure-tempfile-mktemp
    with tempfile.NamedTemporaryFile("w", delete=False) as fh:
        fh.write("data")
    return name, fd, safe_name


def permissions(path):
    # ruleid: pb.python.permissive-file-permissions
    os.chmod(path, 0o777)
    # ruleid: pb.python.permissive-file-permissions
    os.chmod(path, stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)
    # ruleid: pb.python.permissive-file-permissions
    os.makedirs(path, mode=0o777, exist_ok=True)
    # ok: pb.python.permissive-file-permissions
    os.chmod(path, 0o600)
    # ok: pb.python.permissive-file-permissions
    os.makedirs(path, mode=0o750, exist_ok=True)


def unpack(archive_path, dest):
    import shutil

    # ruleid: pb.python.tarfile-extractall-traversal
    shutil.unpack_archive(archive_path, dest)
    # ok: pb.python.tarfile-extractall-traversal
    shutil.unpack_archive(archive_path, dest, filter="data")
