import ssl
import urllib.request

import requests


def fetch(url, ca_bundle):
    # ruleid: pb.python.tls-verification-disabled
    r = requests.get(url, verify=False, timeout=10)
    session = requests.Session()
    # ruleid: pb.python.tls-verification-disabled
    session.verify = False
    # ok: pb.python.tls-verification-disabled
    r2 = requests.get(url, timeout=10)
    # ok: pb.python.tls-verification-disabled
    r3 = requests.post(url, json={}, verify=ca_bundle, timeout=10)
    return r, r2, r3


def open_tls(url):
    # ruleid: pb.python.ssl-unverified-context
    ctx = ssl._create_unverified_context()
    ctx2 = ssl.create_default_context()
    # ruleid: pb.python.ssl-unverified-context
    ctx2.check_hostname = False
    # ruleid: pb.python.ssl-unverified-context
    ctx2.verify_mode = ssl.CERT_NONE
    # ok: pb.python.ssl-unverified-context
    good = ssl.create_default_context()
    # ok: pb.python.ssl-unverified-context
    good.verify_mode = ssl.CERT_REQUIRED
    return urllib.request.urlopen(url, context=good), ctx
