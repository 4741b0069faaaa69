# attack: infinite loop -- never returns, to hang the harness.
# expect: timeout
def add(a, b):
    while True:
        pass
