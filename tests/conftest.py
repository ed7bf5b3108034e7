import io

import pytest

from tests import synthetic


@pytest.fixture(autouse=True)
def django_db_serialized_rollback() -> None:
    """Every transactional test (live_server, worker processes) restores the migrated rows when it starts.

    Overrides pytest-django's fixture of this name so that its mere presence turns serialized rollback on for all
    of them: the market presets come from a data migration, and a transactional test's flush would otherwise leave
    later tests without them, or (mixed with serialized ones) re-create content types twice.
    """


@pytest.fixture(autouse=True)
def _market_presets(request):
    """Transactional tests start with the built-in market presets (a data migration's rows).

    Their restore from the serialized copy is not enough on its own: a run that mixes plain and transactional tests
    and Playwright's greenlets can reach a transactional test whose connection has no serialized copy, and Django
    then restores nothing after the previous test's flush. Seeding here (only when the rows are missing) keeps every
    such test independent of the order of the run.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from tests.factories import ensure_presets

    ensure_presets()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the modules with slow tests are handed out first, so that none of them starts last and
    keeps one process busy while the other has finished (`make test` runs with `--dist loadfile`)."""
    if not hasattr(config, "workerinput"):
        return  # a plain run keeps pytest-django's order
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: the order within a module is kept


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in getattr(item, "fixturenames", ())


def _uses_db(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or "db" in getattr(item, "fixturenames", ())


_flushed: dict[str, bool] = {"default": False}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """A plain database test that runs after a transactional one starts with the migrated rows, like every other.

    A transactional test ends by flushing the database, and only the next transactional test restores the rows the
    migrations made (serialized rollback). pytest-django runs the plain tests first so that none follows a flush,
    but pytest-xdist hands a process tests in its own order: there the rows are restored here, once per flush,
    outside the plain test's transaction.
    """
    if _is_transactional(item):
        _flushed["default"] = False  # it restores them itself
    elif _flushed["default"] and _uses_db(item):
        from django.db import connection, transaction
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            serialized = getattr(connection, "_test_serialized_contents", None)
            with transaction.atomic():
                if serialized:
                    connection.creation.deserialize_db_from_string(serialized)
                else:
                    from tests.factories import ensure_presets

                    ensure_presets()
            connection.close()
        _flushed["default"] = False
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item):
    yield
    if _is_transactional(item):
        _flushed["default"] = True


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language. A test client request with a language cookie leaves Django's
    LocaleMiddleware's choice active in the test's thread (the middleware activates per request and never resets),
    which made a later test that renders translated text depend on the order of the run."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _throttle_counts_reset():
    """Login failures and sign-ups are counted per client address, and every test client is 127.0.0.1: each test
    starts with nothing counted (settings_test keeps the counts in their own in-process cache)."""
    from django.core.cache import caches

    caches["throttle"].clear()


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright driver for the whole run: a second sync_playwright() in the same thread fails while the
    first one's event loop is alive, so every browser test (tests/e2e, tests/ops) launches from this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def png_bytes():
    def encode(image, fmt: str = "PNG", **kwargs) -> bytes:
        buf = io.BytesIO()
        image.save(buf, fmt, **kwargs)
        return buf.getvalue()

    return encode


@pytest.fixture
def synthetic_photos():
    return synthetic


# A merchant signed in to the dashboard: an owner of a fresh organization. Modules that need another shape (a role,
# credits) define their own fixture of the same name, which wins.
@pytest.fixture
def member(db):
    from tests.factories import MembershipFactory

    return MembershipFactory()


@pytest.fixture
def org(member):
    return member.organization


@pytest.fixture
def client_a(client, member):
    client.force_login(member.user)
    return client
