# attack: filesystem writes -- leaves files in /tmp, the working directory and the host's other
# world-writable places (/dev/shm, /var/tmp, /run/lock), and writes into the project directory
# and /root. The test looks for the files on the host afterwards; writes into the project or
# /root are reported as ESCAPED at once.
# expect: fail
# needs: uid-drop
import os

NAME = "__MARKER__-write"
WORLD_WRITABLE = ["/tmp", os.getcwd(), "/dev/shm", "/var/tmp", "/run/lock"]
PRIVATE = ["__PROJECT_DIR__", "__PROJECT_DIR__/tests", "/root"]


def add(a, b):
    for directory in WORLD_WRITABLE + PRIVATE:
        path = os.path.join(directory, NAME)
        try:
            with open(path, "w") as handle:
                handle.write("left behind\n")
        except OSError as exc:
            print(f"blocked {path}: {exc}")
            continue
        print(f"{'ESCAPED write' if directory in PRIVATE else 'wrote'}: {path}")
    return a - b
