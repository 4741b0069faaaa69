# attack: state outside the process tree -- a System V shared memory segment (key derived from
# the marker) that outlives the program unless the sandbox has its own IPC namespace.
# expect: fail
import ctypes
import ctypes.util
import zlib

KEY = zlib.crc32(b"__MARKER__") & 0x7FFFFFFF
IPC_CREAT = 0o1000


def add(a, b):
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    shmid = libc.shmget(ctypes.c_int(KEY), ctypes.c_size_t(1 << 20), IPC_CREAT | 0o666)
    print("shm segment", shmid if shmid >= 0 else "refused")  # the test looks on the host
    return a - b
