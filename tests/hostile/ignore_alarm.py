# attack: per-input timer evasion -- SIGALRM ignored and blocked, then an infinite loop;
# only the parent's wall limit can stop it.
# expect: timeout
import signal


def add(a, b):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    while True:
        pass
