import hashlib


def run(user_input):
    # ruleid: fx.py.eval
    eval(user_input)
    # ok: fx.py.eval
    int(user_input)
    # ruleid: fx.py.md5
    hashlib.md5(user_input)
    # ok: fx.py.md5
    hashlib.sha256(user_input)
    # ruleid: fx.py.bare-except
    try:
        int(user_input)
    except:
        pass
    # ok: fx.py.bare-except
    try:
        int(user_input)
    except ValueError:
        pass
