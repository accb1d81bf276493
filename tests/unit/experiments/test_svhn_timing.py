"""The Seq-SVHN timing's pure parts: the synthetic SVHN files, the epoch time read from Mammoth's log."""

from dynamos_plugin.experiments import svhn_timing

from .logs import DOMAIN_IL_LOG


def test_synthetic_svhn_files(tmp_path):
    import scipy.io
    svhn_timing.write_synthetic_svhn(tmp_path, n_train=30, n_test=20)
    train = scipy.io.loadmat(tmp_path / 'train_32x32.mat')
    assert train['X'].shape == (32, 32, 3, 30) and train['X'].dtype.name == 'uint8'
    assert train['y'].shape == (30, 1) and set(train['y'].ravel()) == set(range(1, 11))
    assert scipy.io.loadmat(tmp_path / 'test_32x32.mat')['X'].shape[-1] == 20


def test_task1_seconds_from_the_log():
    assert svhn_timing._task1_seconds(DOMAIN_IL_LOG) == 3.0
    assert svhn_timing._task1_seconds('no timestamps') is None
