# attack: rigged comparison in a container -- a list subclass whose __eq__ is always True and
# whose __iter__ lies about its content.
# expect: fail
class RiggedList(list):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __iter__(self):
        return iter([3])

    __hash__ = None


def add(a, b):
    return RiggedList()
