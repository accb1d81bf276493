"""A run's lock file: held while its run is under way, removed by its holder when the run is over, and a runner
that opened the file just before it was removed does not take a lock nobody else sees."""

import fcntl
import os

from dynamos_plugin.experiments import execute

FLOCK = fcntl.flock  # the real one (the race tests replace fcntl.flock)


def hold(path):
    """Another runner holding the lock of ``path``: its open file, locked."""
    held = open(path, 'a')
    FLOCK(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return held


def test_the_holder_removes_its_lock_file_when_its_run_is_over(tmp_path):
    path = tmp_path / 'seed0.lock'
    with execute.run_lock(path) as lock:
        assert lock is not None and path.exists()
        with execute.run_lock(path) as second:  # a concurrent runner is kept out while the run is under way
            assert second is None
        assert path.exists()  # ... and does not remove the holder's file
    assert not path.exists()


def test_a_busy_run_leaves_the_lock_file_to_its_holder(tmp_path):
    path = tmp_path / 'seed0.lock'
    with hold(path):
        with execute.run_lock(path) as lock:
            assert lock is None
        assert path.exists()
    with execute.run_lock(path) as lock:  # a lock file left by a killed runner (nobody holds it) is taken over
        assert lock is not None
    assert not path.exists()


def test_the_lock_file_is_removed_when_the_run_raises(tmp_path):
    path = tmp_path / 'seed0.lock'
    try:
        with execute.run_lock(path):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert not path.exists()


def test_a_lock_file_removed_between_open_and_lock_is_not_taken(tmp_path, monkeypatch):
    """Runner B opens the lock file; its holder A ends its run, removes the file and lets go of it; runner C
    creates a new one and locks it. B's lock on the removed file succeeds, but B must see that the file at the
    path is C's and keep out."""
    path = tmp_path / 'seed0.lock'
    others = []

    def flock(f, op):
        if not others:  # the first lock attempt of B: meanwhile, A removed the file and C took a new one
            os.unlink(path)
            others.append(hold(path))
        return FLOCK(f, op)

    monkeypatch.setattr(execute.fcntl, 'flock', flock)
    path.touch()
    with execute.run_lock(path) as lock:
        assert lock is None  # C holds the run
    assert path.exists() and os.path.samestat(os.fstat(others[0].fileno()), os.stat(path))  # C's file, untouched
    others[0].close()


def test_a_lock_file_removed_between_open_and_lock_is_retried(tmp_path, monkeypatch):
    """As above, but nobody took the run after A: B locks the file now at the path, not the removed one."""
    path = tmp_path / 'seed0.lock'
    calls = []

    def flock(f, op):
        calls.append(os.fstat(f.fileno()).st_ino)
        if len(calls) == 1:
            os.unlink(path)  # A removed it after B opened it
        return FLOCK(f, op)

    monkeypatch.setattr(execute.fcntl, 'flock', flock)
    path.touch()
    with execute.run_lock(path) as lock:
        assert lock is not None and len(calls) == 2
        assert os.path.samestat(os.fstat(lock.fileno()), os.stat(path))
    assert not path.exists()
