"""pytest plugin of `benchmarks/mutation.py`: keeps the fast, in-process tests only (it runs it on ``tests/unit/``;
this is the second filter, for a unit test that starts a program after all).

Loaded with ``PYTEST_PLUGINS=benchmarks.mutation_select`` (the tree's root on ``sys.path``). A test is left out when

* its function's source, or that of a fixture it uses (directly or through other fixtures, e.g.
  ``checkpoint``), calls ``run_mammoth(`` or ``subprocess.``: it starts Mammoth or another program;
* its node id is a line of the file given by ``--mutation-exclude FILE`` (written by the
  calibration run below, for tests that start a process through a helper or the code under test).

Only the order changes otherwise: if ``.mutation/pristine.json`` (module path -> sha256 of the
unmutated file) is there, the tests of the module that differs from it (the mutated one) run first,
so that ``-x`` stops a killed mutant early: ``tests/unit/test_<module>.py``, then the test files that
name the module, then the rest.

``--mutation-record FILE`` is the calibration mode: every test that creates a ``subprocess.Popen``
while it runs has its node id appended to FILE, and every test that fails (unmutated, in the copy)
to FILE.failed.
"""

import hashlib
import inspect
import json
import re
import subprocess
from pathlib import Path

import pytest

SPAWNS = re.compile(r'\brun_mammoth\(|\bsubprocess\.')


def pytest_addoption(parser):
    group = parser.getgroup('mutation', 'fast test selection for mutation testing')
    group.addoption('--mutation-exclude', default=None, help='file of node ids to leave out, one a line')
    group.addoption('--mutation-record', default=None, help='append the node id of every test that starts a process')


def _source(func) -> str:
    try:
        return inspect.getsource(inspect.unwrap(func))
    except (OSError, TypeError):
        return ''


def spawns_statically(item) -> bool:
    if SPAWNS.search(_source(getattr(item, 'function', None))):
        return True
    info = getattr(item, '_fixtureinfo', None)
    if info is None:
        return False
    for defs in info.name2fixturedefs.values():
        for fixturedef in defs:
            if SPAWNS.search(_source(fixturedef.func)):
                return True
    return False


def pytest_collection_modifyitems(config, items):
    exclude_file = config.getoption('mutation_exclude')
    excluded = set()
    if exclude_file and Path(exclude_file).exists():
        excluded = {line.strip() for line in Path(exclude_file).read_text().splitlines() if line.strip()}
    keep, drop = [], []
    for item in items:
        (drop if item.nodeid in excluded or spawns_statically(item) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    stems = mutated_modules(Path(str(config.rootpath)) / '.mutation' / 'pristine.json')
    if stems:
        items.sort(key=lambda item: priority(item, stems))  # stable: the files keep their order within a rank


def mutated_modules(pristine: Path):
    if not pristine.exists():
        return []
    root = pristine.parent.parent
    return [Path(m).stem for m, digest in json.loads(pristine.read_text()).items()
            if (root / m).exists() and hashlib.sha256((root / m).read_bytes()).hexdigest() != digest]


_TEXT = {}


def priority(item, stems) -> int:
    path = Path(str(item.path))
    if any(path.name == f'test_{stem}.py' for stem in stems):
        return 0
    if path not in _TEXT:
        _TEXT[path] = path.read_text(errors='replace')
    return 1 if any(re.search(rf'\b{re.escape(stem)}\b', _TEXT[path]) for stem in stems) else 2


class _Recorder:
    def __init__(self, path):
        self.path = Path(path)
        self.current = None
        self.spawned = set()
        self.failed = set()
        self._init = subprocess.Popen.__init__
        recorder = self

        def init(popen, *args, **kwargs):
            if recorder.current is not None:
                recorder.spawned.add(recorder.current)
            return recorder._init(popen, *args, **kwargs)

        subprocess.Popen.__init__ = init

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.current = item.nodeid
        yield
        self.current = None

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.add(report.nodeid)

    def pytest_sessionfinish(self, session):
        subprocess.Popen.__init__ = self._init
        for path, ids in ((self.path, self.spawned), (self.path.with_name(self.path.name + '.failed'), self.failed)):
            with path.open('a') as f:
                f.writelines(nodeid + '\n' for nodeid in sorted(ids))


def pytest_configure(config):
    path = config.getoption('mutation_record')
    if path:
        config.pluginmanager.register(_Recorder(path), 'mutation-recorder')
