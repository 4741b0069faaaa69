import os

import jwt
from flask import abort, g


def read_claims(token):
    # ruleid: pb.python.jwt-signature-not-verified
    claims = jwt.decode(token, options={"verify_signature": False})
    # ruleid: pb.python.jwt-signature-not-verified
    legacy = jwt.decode(token, verify=False)
    # ok: pb.python.jwt-signature-not-verified
    verified = jwt.decode(token, os.environ["JWT_KEY"], algorithms=["HS256"])
    return claims, legacy, verified


def delete_user(user, target):
    # ruleid: pb.python.assert-used-for-authorization
    assert user.is_admin, "admin only"
    # ok: pb.python.assert-used-for-authorization
    if not user.is_admin:
        abort(403)
    # ok: pb.python.assert-used-for-authorization
    assert target is not None
    target.delete()


def test_delete_requires_admin():
    # ok: pb.python.assert-used-for-authorization
    assert g.user.is_admin is False


def check_lists(candidate):
    # ok: pb.python.assert-used-for-authorization
    assert candidate(["hi", "admin"], ["hi", "hi"]) == ["hi", "hi"]


def change_role(request, user):
    # ruleid: pb.python.assert-used-for-authorization
    assert request.user.has_permission("users.change"), "forbidden"
    user.role = request.json["role"]
