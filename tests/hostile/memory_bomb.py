# attack: memory bomb -- one 64 GB request, then touched 512 MB blocks until nothing is left.
#   Filling 4 GiB before the limit bites can outlast the 1 s time limit on a loaded machine.
# expect: fail | timeout
def add(a, b):
    try:
        huge = bytearray(64 * 1024**3)
    except MemoryError:
        huge = None
    hoard = [huge]
    while True:
        hoard.append(bytearray(512 * 1024**2))  # bytearray() zero-fills: real resident memory
