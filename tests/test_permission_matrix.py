"""Every URL of the project × every persona × objects in own, sibling, parent, child and other
organisations, GET and POST. Allowed combinations are listed explicitly in one module per app,
tests/<app>/matrix.py (not computed from the predicates under test); everything else must be a
404 that changes nothing. A URL pattern with no entry fails the test, so new pages cannot skip it.

Each matrix module exports MATRIX and may export prepare(world) to add the objects its targets
need (commitments in a given state, say); they run in the order of the modules' paths.

The world is built once for the whole module, in a transaction rolled back at its end; every case
runs in a savepoint of its own (pytest-django's `db`) rolled back after it, with a fresh copy of
the world's files, so each case starts from the same database and media as if it had built them.
"""
import importlib
import pathlib
import shutil

import pytest
from django.apps import apps
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from commitments.models import Commitment, Suggestion
from orgs.models import AuditEvent, Member, Organisation
from tests.conftest import make_world
from tests.matrix_common import PERSONAS

TESTS_DIR = pathlib.Path(__file__).parent
MODULES = [importlib.import_module(f"tests.{path.parent.name}.{path.stem}")
           for path in sorted(TESTS_DIR.glob("*/matrix.py"))]
MATRIX = {}
for _module in MODULES:
    overlap = set(MATRIX) & set(_module.MATRIX)
    assert not overlap, f"URL names in two matrix modules: {overlap}"
    MATRIX.update(_module.MATRIX)


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


def _url(world, name, target):
    """A target gives a pk, a dict of URL kwargs, or None for URLs without arguments."""
    value = target(world) if target is not None else None
    if value is None:
        return reverse(name)
    return reverse(name, kwargs=value if isinstance(value, dict) else {"pk": value})


def _snapshot():
    """Everything a request could change: row counts of every model, and the audit trail."""
    counts = tuple(model.objects.count() for model in apps.get_models()
                   if model._meta.app_label in ("orgs", "commitments", "reviews", "evaluations", "auth"))
    return (AuditEvent.objects.count(), counts,
            list(Member.objects.order_by("pk").values_list("version", flat=True)),
            list(Organisation.objects.order_by("pk").values_list("version", "path")),
            _versions())


def _versions():
    return (list(Commitment.objects.order_by("pk").values_list("version", "status")),
            list(Suggestion.objects.order_by("pk").values_list("version", "outcome")))


CASES = [(name, persona) for name in sorted(MATRIX) for persona in PERSONAS]


@pytest.fixture(scope="module")
def _built_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The persona tree and every module's prepare(), once: (world, its media folder). The same
    settings as conftest's autouse fixtures give each test (a media folder, the fast hasher)."""
    media = tmp_path_factory.mktemp("matrix") / "media"
    with (django_db_blocker.unblock(),
          override_settings(MEDIA_ROOT=media,
                            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
          transaction.atomic()):
        world = make_world()
        for module in MODULES:
            if hasattr(module, "prepare"):
                module.prepare(world)
        yield world, media
        transaction.set_rollback(True)


@pytest.fixture
def matrix_world(_built_world, db, settings):
    world, media = _built_world
    if media.exists():
        shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)
    return world


@pytest.mark.parametrize("name,persona", CASES)
def test_permission_matrix(matrix_world, client, name, persona):
    world = matrix_world
    spec = MATRIX[name]
    user = None if persona == "anonymous" else getattr(world, {
        "member_a": "member_user_a"}.get(persona, persona))
    if user is not None:
        client.force_login(user)
    for relation, target in spec.targets.items():
        url = _url(world, name, target)
        for method in ("GET", "POST"):
            before = _snapshot()
            response = client.get(url) if method == "GET" else client.post(url, {})
            where = f"{persona} {method} {name} [{relation}] {url}"
            if persona == "anonymous" and name != "login" and not spec.public:
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
