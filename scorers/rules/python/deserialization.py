import base64
import json
import pickle
import shelve

import jsonpickle
import yaml
from flask import Flask, request
from yaml import Loader, SafeLoader

app = Flask(__name__)


@app.route("/load", methods=["POST"])
def load_state():
    raw = base64.b64decode(request.get_data())
    # ruleid: pb.python.pickle-deserialization
    obj = pickle.loads(raw)
    # ok: pb.python.pickle-deserialization
    data = json.loads(raw)
    return str(obj) + str(data)


def read_cache(path, payload):
    with open(path, "rb") as f:
        # ruleid: pb.python.pickle-deserialization
        vocab = pickle.load(f)
    # ruleid: pb.python.pickle-deserialization
    db = shelve.open(path)
    # ruleid: pb.python.pickle-deserialization
    assets = jsonpickle.decode(payload)
    # ok: pb.python.pickle-deserialization
    clone = pickle.loads(pickle.dumps(vocab))
    with open(path) as f:
        # ok: pb.python.pickle-deserialization
        config = json.load(f)
    return vocab, db, assets, clone, config


def read_yaml(stream):
    # ruleid: pb.python.yaml-unsafe-load
    a = yaml.load(stream)
    # ruleid: pb.python.yaml-unsafe-load
    b = yaml.load(stream, Loader=Loader)
    # ruleid: pb.python.yaml-unsafe-load
    c = yaml.unsafe_load(stream)
    # ok: pb.python.yaml-unsafe-load
    d = yaml.safe_load(stream)
    # ok: pb.python.yaml-unsafe-load
    e = yaml.load(stream, Loader=SafeLoader)
    # ok: pb.python.yaml-unsafe-load
    f = yaml.load(stream, Loader=yaml.SafeLoader)
    return a, b, c, d, e, f
