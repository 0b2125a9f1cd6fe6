"""Shared vocabulary of the permission matrix: personas, their groups, and the Spec of one URL."""

PERSONAS = ["admin", "reviewer", "committee_secretary", "secretary_a", "staff_a", "member_a",
            "secretary_b", "auditor", "security", "anonymous"]
OFFICERS = {"reviewer", "committee_secretary", "secretary_a", "staff_a", "secretary_b"}
# Readers of an organisation's affairs and its members' personal data: officers only. Under 三员分立
# the system administrator browses the organisation tree (TREE_READERS) but reads no member data.
READERS = OFFICERS
TREE_READERS = OFFICERS | {"admin"}
LOGGED_IN = set(PERSONAS) - {"anonymous"}
NO_ARGS = {None: None}


def attr(name):
    """A target that is the pk of a world attribute."""
    return lambda world: getattr(world, name).pk


class Spec:
    """One URL: its targets (relation → function of the world giving the pk, or None for URLs
    without arguments), who may GET and POST each relation, and which methods the view accepts.
    A public URL (login_not_required) is checked for anonymous visitors like for any persona,
    instead of expecting the login redirect."""

    def __init__(self, targets=None, get=None, post=None, methods=("GET", "POST"), public=False):
        self.targets = targets
        self.get = get or {}
        self.post = post if post is not None else self.get
        self.methods = methods
        self.public = public


def allow(personas, relations=(None,)):
    return {p: set(relations) for p in personas}
