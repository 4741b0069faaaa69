import hashlib
import random
import secrets
import string
from random import randint

from Crypto.Cipher import AES, DES
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def digests(password, data, email):
    # ruleid: pb.python.weak-hash-md5-sha1
    pw_hash = hashlib.md5(password.encode("utf-8")).hexdigest()
    # ruleid: pb.python.weak-hash-md5-sha1
    etag = hashlib.sha1(data).hexdigest()
    # ruleid: pb.python.weak-hash-md5-sha1
    hasher = hashlib.new("md5")
    # ok: pb.python.weak-hash-md5-sha1
    good = hashlib.sha256(data).hexdigest()
    # ok: pb.python.weak-hash-md5-sha1
    cache_key = hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()
    # ok: pb.python.weak-hash-md5-sha1
    kdf = hashlib.scrypt(password.encode(), salt=secrets.token_bytes(16), n=2**14, r=8, p=1)
    return pw_hash, etag, hasher, good, cache_key, kdf


def ciphers(key, data):
    # ruleid: pb.python.weak-cipher
    des = DES.new(key, DES.MODE_CBC)
    # ruleid: pb.python.weak-cipher
    ecb = AES.new(key, AES.MODE_ECB)
    # ok: pb.python.weak-cipher
    gcm = AES.new(key, AES.MODE_GCM)
    nonce = secrets.token_bytes(12)
    # ok: pb.python.weak-cipher
    sealed = AESGCM(key).encrypt(nonce, data, None)
    return des, ecb, gcm, sealed


def generate_token(length=32):
    chars = string.ascii_letters + string.digits
    # ruleid: pb.python.insecure-random-security, pb.python.insecure-random
    return "".join(random.choice(chars) for _ in range(length))


def make_user():
    # ruleid: pb.python.insecure-random-security, pb.python.insecure-random
    password = "pass" + str(randint(0, 1000))
    # ruleid: pb.python.insecure-random-security, pb.python.insecure-random
    salt = random.getrandbits(64)
    # ok: pb.python.insecure-random-security
    password2 = secrets.token_urlsafe(16)
    # ok: pb.python.insecure-random-security
    api_key = secrets.token_hex(32)
    return password, salt, password2, api_key


def one_time_code():
    # ruleid: pb.python.insecure-random-security, pb.python.insecure-random
    return f"{random.randint(0, 999999):06d}"


def invite_code():
    # ok: pb.python.insecure-random-security
    return secrets.token_urlsafe(8)


def simulation(items):
    # ruleid: pb.python.insecure-random
    random.shuffle(items)
    # ruleid: pb.python.insecure-random
    weight = random.random()
    # ok: pb.python.insecure-random
    choice = secrets.choice(items)
    # ok: pb.python.insecure-random
    sysrand = random.SystemRandom()
    return weight, choice, sysrand
