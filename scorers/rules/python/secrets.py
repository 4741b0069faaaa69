import os

import psycopg2
import requests


class Config:
    # ruleid: pb.python.hardcoded-credential
    SECRET_KEY = "django-insecure-9x8a7sd6f5g4h3j2k1"
    # ok: pb.python.hardcoded-credential
    DB_PASSWORD = os.environ["DB_PASSWORD"]
    # ok: pb.python.hardcoded-credential
    password_reset_template = "auth/password_reset/form.html"


def connect():
    # ruleid: pb.python.hardcoded-credential
    password = "megadeth"
    # ruleid: pb.python.hardcoded-credential
    conn = psycopg2.connect(host="db", user="app", password="s3cr3t!")
    # ok: pb.python.hardcoded-credential
    conn2 = psycopg2.connect(host="db", user="app", password=os.environ.get("PGPASSWORD"))
    # ok: pb.python.hardcoded-credential
    empty_password = ""
    return password, conn, conn2, empty_password


def call_api(form):
    # ruleid: pb.python.hardcoded-credential
    headers = {"api_key": "3842240593abcdef"}
    # ruleid: pb.python.hardcoded-credential
    form["password"] = "myprecious"
    # ok: pb.python.hardcoded-credential
    params = {"api_key": os.environ["API_KEY"]}
    return requests.get("https://api.example.com", headers=headers, params=params)


# ruleid: pb.python.hardcoded-cloud-token
yt_key = 'AIzaSyAl1Xq9DwdE_KD4AtPaE4EJl3WZe2zCqg4'
# ruleid: pb.python.hardcoded-cloud-token
AUTH = {"Authorization": "Bearer ya29.5AE7v1wOfgun1gR_iXwuGhMnt8nPNbT4C-Pd39DUnsNGb9I6U5FQ"}
# ok: pb.python.hardcoded-cloud-token
maps_key = os.environ["GOOGLE_MAPS_API_KEY"]

# ruleid: pb.python.private-key-in-source, pb.python.hardcoded-credential
EXAMPLE_PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----'
# ok: pb.python.private-key-in-source
PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"


def load_key():
    # ok: pb.python.private-key-in-source
    with open(os.environ["SIGNING_KEY_PATH"], "rb") as fh:
        return fh.read()


def check_login(username, password):
    import hmac

    # ruleid: pb.python.hardcoded-credential
    if username == "admin" and password == "admin123":
        return True
    # ok: pb.python.hardcoded-credential
    return hmac.compare_digest(password.encode(), os.environ["ADMIN_PASSWORD"].encode())
