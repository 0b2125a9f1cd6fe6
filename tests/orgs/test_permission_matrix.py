"""Every URL of the project × every persona × objects in own, sibling, parent, child and other
organisations, GET and POST. Allowed combinations are listed explicitly (not computed from the
predicates under test); everything else must be a 404 that changes nothing. A URL pattern with no
entry here fails the test, so new pages cannot skip this check.
"""
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from orgs.models import AuditEvent, Member, Organisation, RoleGrant

PERSONAS = ["admin", "reviewer", "committee_secretary", "secretary_a", "staff_a", "member_a",
            "secretary_b", "auditor", "anonymous"]
READERS = {"admin", "reviewer", "committee_secretary", "secretary_a", "staff_a", "secretary_b"}
OFFICERS = READERS - {"admin"}
LOGGED_IN = set(PERSONAS) - {"anonymous"}

# Targets, by the relation they have to branch A (own), and where they sit in the tree.
ORG_TARGETS = {"own": "branch_a", "sibling": "branch_b", "parent": "committee", "child": "general",
               "cousin": "branch_c", "other": "branch_d", "root": "root"}
ORG_READ = {
    "admin": set(ORG_TARGETS), "reviewer": set(ORG_TARGETS),
    "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
MEMBER_TARGETS = {"own": "member_a", "sibling": "member_b", "cousin": "member_c", "other": "member_d"}
MEMBER_EDIT = {
    "reviewer": set(MEMBER_TARGETS), "committee_secretary": {"own", "sibling", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
MEMBER_READ = {**MEMBER_EDIT, "admin": set(MEMBER_TARGETS), "member_a": {"own"}}
USER_TARGETS = {"own": "staff_a", "sibling": "secretary_b"}
GRANT_TARGETS = {"own": "staff_a", "sibling": "secretary_b"}


def everyone(targets):
    return {p: set(targets) for p in PERSONAS}


class Spec:
    """One URL: how to build it for a target, who may GET/POST it, and which methods exist."""

    def __init__(self, targets=None, get=None, post=None, methods=("GET", "POST")):
        self.targets = targets  # dict relation → world attribute, or None for URLs without args
        self.get = get or {}  # persona → set of relations (or {None}) allowed
        self.post = post if post is not None else self.get
        self.methods = methods


NO_ARGS = {None: None}


def allow(personas, relations=(None,)):
    return {p: set(relations) for p in personas}


MATRIX = {
    "home": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "login": Spec(NO_ARGS, allow(["anonymous"])),
    "logout": Spec(NO_ARGS, allow(PERSONAS), methods=("POST",)),
    "password_change": Spec(NO_ARGS, allow(LOGGED_IN)),
    "orgs:tree": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "orgs:detail": Spec(ORG_TARGETS, ORG_READ, methods=("GET",)),
    "orgs:edit": Spec(ORG_TARGETS, {"admin": set(ORG_TARGETS)}),
    # Branches take no children; the root has no parent to move from.
    "orgs:create_child": Spec(ORG_TARGETS, {"admin": {"parent", "child", "root"}}),
    "orgs:move": Spec(ORG_TARGETS, {"admin": set(ORG_TARGETS) - {"root"}}),
    "orgs:member_list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "orgs:member_create": Spec(NO_ARGS, allow(OFFICERS)),
    "orgs:member_detail": Spec(MEMBER_TARGETS, MEMBER_READ, methods=("GET",)),
    "orgs:member_edit": Spec(MEMBER_TARGETS, MEMBER_EDIT),
    "orgs:member_transfer": Spec(MEMBER_TARGETS, MEMBER_EDIT),
    "orgs:user_list": Spec(NO_ARGS, allow(["admin"]), methods=("GET",)),
    "orgs:user_create": Spec(NO_ARGS, allow(["admin"])),
    "orgs:user_detail": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("GET",)),
    "orgs:user_grant": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("POST",)),
    "orgs:user_set_password": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("POST",)),
    "orgs:user_set_active": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("POST",)),
    "orgs:grant_revoke": Spec(GRANT_TARGETS, {"admin": set(GRANT_TARGETS)}, methods=("POST",)),
}


def all_url_names(patterns=None, namespace=""):
    names = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names += all_url_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.append(namespace + p.name)
    return names


def test_every_url_pattern_has_a_matrix_entry():
    missing = sorted(set(all_url_names()) - set(MATRIX))
    assert not missing, f"URL patterns without a permission-matrix entry: {missing}"


def _target_pk(world, name, attr):
    if attr is None:
        return None
    if name == "orgs:grant_revoke":
        return RoleGrant.objects.filter(user=getattr(world, attr)).first().pk
    return getattr(world, attr).pk


def _url(world, name, attr):
    pk = _target_pk(world, name, attr)
    return reverse(name, kwargs={"pk": pk}) if pk is not None else reverse(name)


def _snapshot():
    return (AuditEvent.objects.count(), Organisation.objects.count(), Member.objects.count(),
            RoleGrant.objects.count(), list(Member.objects.order_by("pk").values_list("version", flat=True)),
            list(Organisation.objects.order_by("pk").values_list("version", "path")))


CASES = [(name, persona) for name in sorted(MATRIX) for persona in PERSONAS]


@pytest.mark.parametrize("name,persona", CASES)
def test_permission_matrix(world, client, name, persona):
    spec = MATRIX[name]
    user = None if persona == "anonymous" else getattr(world, {
        "member_a": "member_user_a"}.get(persona, persona))
    if user is not None:
        client.force_login(user)
    for relation, attr in spec.targets.items():
        url = _url(world, name, attr)
        for method in ("GET", "POST"):
            before = _snapshot()
            response = client.get(url) if method == "GET" else client.post(url, {})
            where = f"{persona} {method} {name} [{relation}] {url}"
            if persona == "anonymous" and name != "login":
                # LoginRequiredMiddleware answers before the view, whatever the method.
                assert response.status_code == 302 and "/accounts/login/" in response["Location"], where
                assert _snapshot() == before, f"{where} changed data"
                continue
            if method not in spec.methods:
                assert response.status_code == 405, where
                continue
            allowed = relation in (spec.get if method == "GET" else spec.post).get(persona, set())
            if allowed:
                assert response.status_code in (200, 302), where
            else:
                assert response.status_code in (404, 302 if name == "login" else 404), where
                if name != "login":
                    assert _snapshot() == before, f"{where} changed data"
        if name == "logout" and user is not None:
            client.force_login(user)
