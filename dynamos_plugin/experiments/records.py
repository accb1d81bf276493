"""Records and their provenance: the commits and machine a run is credited with, how a path is
written into a record (relative to the repository root, so a record does not name the machine
that made it), writing a record atomically and reading them back."""

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

from dynamos_plugin.glue.paths import DEFAULT_DATA, REPO

# =============================================================================================
# Provenance
# =============================================================================================


def _git(path: Path, *args: str) -> Optional[str]:
    """A read-only git command's output (no optional index lock, so it never disturbs a concurrent commit)."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS='0')
    try:
        return subprocess.run(['git', *args], cwd=path, env=env, capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, OSError):
        return None


def git_state(path: Path) -> dict:
    """HEAD of the repository at ``path``, whether tracked files differ from it, and a hash of that difference.

    Mammoth's working tree carries our patches (patches/), so its diff hash identifies the code
    that ran as well as its commit does. A submodule's own uncommitted changes (Mammoth's patches,
    seen from this repository) do not make the outer repository dirty: they have their own hash.
    """
    head = _git(path, 'rev-parse', 'HEAD')
    diff = _git(path, 'diff', 'HEAD', '--ignore-submodules=dirty')
    return {'commit': head.strip() if head else None, 'dirty': bool(diff) if diff is not None else None,
            'diff_sha1': hashlib.sha1(diff.encode()).hexdigest() if diff else None}


def hardware() -> dict:
    """CPU model, cores, GPU (if any), torch and Python versions, host name of this machine.

    ``cpu`` is the model name the machine reports, which a virtual machine may cut short (``AMD EPYC`` for several
    generations); ``cpu_id`` adds the vendor's family, model and stepping numbers and ``cpu_capability`` the vector
    instruction set torch's kernels dispatch to (``AVX2``, ``AVX512``, ...): two runs of one seed repeat each other
    to the last digit only where these agree (another CPU's kernels round differently)."""
    cpu, cpu_id = platform.processor() or platform.machine(), None
    with contextlib.suppress(OSError):
        info = cpuinfo_fields(Path('/proc/cpuinfo').read_text())
        cpu = info.get('model name', cpu)
        if 'cpu family' in info:  # x86: e.g. 'AuthenticAMD family 25 model 1 stepping 1'
            cpu_id = (f"{info.get('vendor_id', '?')} family {info['cpu family']} model {info.get('model', '?')} "
                      f"stepping {info.get('stepping', '?')}")
    torch_version, gpu, capability = None, None, None
    with contextlib.suppress(ImportError):
        import torch
        torch_version = torch.__version__
        capability = torch.backends.cpu.get_cpu_capability()
        if torch.cuda.is_available():
            gpu = f'{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}'
    return {'cpu': cpu, 'cpu_id': cpu_id, 'cpu_capability': capability, 'cores': os.cpu_count(), 'gpu': gpu,
            'torch': torch_version, 'host': platform.node(), 'python': platform.python_version()}


def cpuinfo_fields(text: str) -> dict:
    """The fields of the first processor of a ``/proc/cpuinfo`` text (``{'model name': 'AMD EPYC', 'cpu family':
    '25', ...}``)."""
    fields = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(':')
        fields.setdefault(key.strip(), value.strip())
    return fields


# =============================================================================================
# Where records go, and paths as records hold them
# =============================================================================================

#: the committed results (records, report, benchmarks): the published reference, updated only on purpose
#: (``--results-dir results``); a user's runs go to :func:`default_results_dir`
REFERENCE_DIR = REPO / 'results'


def default_results_dir(runs_dir: Path) -> Path:
    """Where a user's records (and their report) go unless told otherwise: ``<runs dir>/results``, by default
    ``runs/results`` (git-ignored), so that the committed records do not count as the user's finished runs."""
    return runs_dir / 'results'


def recorded_default_data_path() -> str:
    """The default data folder (:func:`~dynamos_plugin.glue.paths.default_data_path`) as records hold it:
    ``$DYNAMOS_DATA`` as it is set, else ``data`` (``<repo>/data``, relative to the repository root).

    The committed records say ``../shared/data``: they were run with the folder this project's machines
    keep MNIST in, given as that (the default of the time)."""
    return os.environ.get('DYNAMOS_DATA') or os.path.relpath(DEFAULT_DATA, REPO)


# =============================================================================================
# Writing and reading records
# =============================================================================================

def write_json(path: Path, obj) -> None:
    """Writes atomically (a temporary file in the same folder, then a rename): a record exists only complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(json.dumps(obj, indent=1) + '\n')
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_records(results_dir: Path) -> List[dict]:
    """Every readable record of ``results_dir/records``; unreadable files are reported and skipped."""
    records = []
    for path in sorted((results_dir / 'records').glob('*.json')):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            print(f'warning: skipping unreadable record {path}: {e}', file=sys.stderr)
    return records
