# attack: timeout evasion -- catches BaseException (the sandbox's timeout exception included)
# and goes on looping.
# expect: timeout
def add(a, b):
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue
