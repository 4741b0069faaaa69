# attack: memory bomb -- one 64 GB request, then touched 512 MB blocks until nothing is left.
# expect: fail
def add(a, b):
    try:
        huge = bytearray(64 * 1024**3)
    except MemoryError:
        huge = None
    hoard = [huge]
    while True:
        hoard.append(bytearray(512 * 1024**2))  # bytearray() zero-fills: real resident memory
