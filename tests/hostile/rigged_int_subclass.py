# attack: rigged comparison inside a builtin type -- an int subclass whose __eq__ is always True
# (passes isinstance(x, int) checks).
# expect: fail
class RiggedInt(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


def add(a, b):
    return RiggedInt(0)
