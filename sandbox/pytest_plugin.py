"""The sandbox's pytest fixtures, defined once for every test folder: the root pyproject.toml loads this module
(`-p sandbox.pytest_plugin` in `addopts`).

`sandbox` starts both simulators on free ports, one sandbox per test module. A module says how it starts with
the marker `sandbox` in its `pytestmark` (options at module level only, as the fixture is):

* `profiles=["literal", "lenient"]`: the module's tests run once per profile, each profile with a sandbox of its
  own (test ids `[literal]`, `[lenient]`); without it the sandbox takes SANDBOX_PROFILE, else "literal";
* `demo=True`: the demo data, loaded once at the start;
* `billbee_settings={...}`: Billbee simulator settings, set once at the start (after the demo data).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sandbox.runner import Sandbox

MARKER = "sandbox"
OPTIONS = frozenset({"profiles", "demo", "billbee_settings"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(profiles=None, demo=False, billbee_settings=None): how the "
                                       "module's `sandbox` fixture starts (sandbox/pytest_plugin.py)")


def _options(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """The `sandbox` marker's options of the module `node` belongs to."""
    module = node.getparent(pytest.Module)
    marker = module.get_closest_marker(MARKER) if module is not None else None
    if marker is None:
        return {}
    unknown = set(marker.kwargs) - OPTIONS
    if marker.args or unknown:
        raise pytest.UsageError(f"{module.nodeid}: pytest.mark.{MARKER} takes only the keywords {sorted(OPTIONS)}")
    return dict(marker.kwargs)


@pytest.hookimpl(tryfirst=True)  # before the tests' own parametrize marks: ids read `[literal-<their id>]`
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    profiles = _options(metafunc.definition).get("profiles")
    if profiles and "sandbox" in metafunc.fixturenames:
        metafunc.parametrize("sandbox", list(profiles), indirect=True, scope="module")


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """Both simulators on free ports for the module (its `sandbox` marker: profile, demo data, settings)."""
    from sandbox.runner import Sandbox  # here, not at the top: loading the plugin stays cheap for every run

    options = _options(request.node)
    profile = getattr(request, "param", None)  # set by `profiles`
    with Sandbox(billbee_port=0, wemalo_port=0, **({"profile": profile} if profile else {})) as running:
        if options.get("demo"):
            running.control.load_demo()
        if options.get("billbee_settings"):
            running.control.billbee_settings(**options["billbee_settings"])
        yield running
