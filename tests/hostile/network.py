# attack: network access -- connects to a server the test runs on the host's loopback
# (127.0.0.1:__PORT__), to outside addresses, and resolves a name; prints ESCAPED on success.
# expect: fail
import socket

TARGETS = [("127.0.0.1", int("__PORT__")), ("1.1.1.1", 80), ("8.8.8.8", 53), ("10.0.0.1", 80)]


def add(a, b):
    for host, port in TARGETS:
        try:
            with socket.create_connection((host, port), timeout=0.3) as conn:
                conn.sendall(b"__MARKER__ escaped\n")
            print(f"ESCAPED network: connected to {host}:{port}")
        except OSError as exc:
            print(f"blocked {host}:{port}: {exc}")
    try:
        print("ESCAPED dns:", socket.gethostbyname("example.com"))
    except OSError as exc:
        print(f"blocked dns: {exc}")
    return a - b
