"""A researcher's first hour (issue 14), in-process: Mammoth's start-up logging, its argument errors, `--help`,
`--device`, and its messages for a failed download and a file that is not a checkpoint (`main.parse_args` and
Mammoth's functions called directly; tests/integration/test_startup.py runs Mammoth for the rest).
"""

import re
import urllib.error

import numpy as np
import pytest
import torch

from conftest import DYNAMOS_SEQ_MNIST as DYNAMOS


@pytest.fixture
def parse(mammoth_imported, capsys):
    """`main.parse_args(cmd)` in-process; for a command that exits, ``(exit code, stdout, stderr)``."""
    import main

    def _parse(cmd, verbose=False):
        try:
            return main.parse_args([str(c) for c in cmd], verbose=verbose)
        except SystemExit as e:
            out = capsys.readouterr()
            return e.code, out.out, out.err
    return _parse


# 1. start-up noise

def test_skipped_modules_are_listed_at_debug_level(mammoth_imported, caplog):
    import logging
    from utils import SKIPPED_MODULES, log_skipped_modules, skip_module

    skip_module('models.not_installed', ModuleNotFoundError("No module named 'missing_dependency'"))
    with caplog.at_level(logging.DEBUG):
        skip_module('models.another_one', ImportError('Please install the other package'))
        skip_module('models.another_one', ImportError('again'))  # once per module
        skip_module('models.broken', SyntaxError('invalid syntax'))  # not a missing dependency: a warning
    try:
        assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
            ('DEBUG', 'Skipping module `models.another_one` (optional dependency missing): ImportError: '
                      'Please install the other package'),
            ('WARNING', 'Skipping module `models.broken`: SyntaxError: invalid syntax')]
        caplog.clear()
        setattr(log_skipped_modules, 'done', False)
        with caplog.at_level(logging.INFO):
            log_skipped_modules()
            log_skipped_modules()  # once per process
        missing = sum(isinstance(e, ImportError) for e in SKIPPED_MODULES.values())
        assert [r.getMessage() for r in caplog.records] == [
            f'Skipped {missing} optional Mammoth modules whose dependencies are not installed '
            '(LOG_LEVEL=DEBUG lists them and why).']
    finally:
        for name in ('models.not_installed', 'models.another_one', 'models.broken'):
            SKIPPED_MODULES.pop(name, None)


def test_git_hash_is_recorded(parse):
    pytest.importorskip('git')
    args = parse(DYNAMOS + ['--buffer_size', '500'])
    assert re.fullmatch(r'[0-9a-f]{40}', args.conf_git_hash or ''), args.conf_git_hash


def test_the_backbone_warning_is_only_for_a_backbone_nobody_chose(parse, caplog):
    import logging
    with caplog.at_level(logging.WARNING):
        parse(DYNAMOS + ['--buffer_size', '500'], verbose=True)  # Dynamos sets gated-resnet
    assert 'No backbone specified' not in caplog.text
    with caplog.at_level(logging.WARNING):
        parse(['--model', 'sgd', '--dataset', 'seq-mnist', '--lr', '0.1'], verbose=True)  # the dataset's
    assert 'No backbone specified. Using default backbone (set by the dataset).' in caplog.text


# 2, 3, 6. argument errors and --help

def test_an_argument_error_is_the_last_line_after_a_short_usage(parse):
    code, out, err = parse(DYNAMOS + ['--buffer_size', '500', '--keep_ratio', '2'])
    assert code == 2 and out == ''
    usage, error = err.splitlines()  # `prog` is main.py when run as Mammoth's script
    assert re.fullmatch(r'usage: \S+ --model MODEL --dataset DATASET \[options\]  \(add --help to list the options\)', usage)
    assert error.endswith(': error: argument --keep_ratio: the keep ratio must be in (0, 1], got 2')


def test_a_missing_buffer_size_is_an_argument_error(parse):
    code, _, err = parse(DYNAMOS)
    assert code == 2
    assert err.splitlines()[-1].endswith(': error: the following arguments are required: --buffer_size')


def test_buffer_size_zero_is_rejected_before_a_configuration_is_chosen(parse, caplog):
    code, _, err = parse(DYNAMOS + ['--buffer_size', '0'], verbose=True)
    assert code == 2
    assert err.splitlines()[-1].endswith(': error: argument --buffer_size: must be a positive integer, got 0')
    assert 'nearest buffer size' not in caplog.text


def test_help_lists_the_model_and_backbone_flags_without_a_buffer_size(parse):
    code, out, _ = parse(DYNAMOS + ['--help'])
    assert code == 0
    for flag in ('--buffer_size', '--keep_ratio', '--policy_penalty', '--warmup', '--nf', '--temperature',
                 '--hidden_dim_ratio', '--infer_mode', '--inf_thresh', '--agent_stride', '--device'):
        assert re.search(rf'^\s+{flag}\b', out, re.M), flag



def option_help(out: str, flag: str) -> str:
    """The help text of FLAG in `--help`'s output, on one line."""
    block = re.search(rf'^\s+{flag} [A-Z_]+(.*?)(?=^\s+--|\Z)', out, re.M | re.S).group(1)
    return ' '.join(block.split())


def test_help_shows_the_defaults_a_run_would_use(parse):
    """With a buffer size, `--help` shows Table 5's Seq-MNIST buffer-500 row as the defaults (patch 0020):
    kr 0.7, lambda 500, gamma 0.5, w_P 0.3, alpha 0.2, alpha_P 0.2, beta 2.0, lr 0.07, batch sizes 10."""
    code, out, _ = parse(DYNAMOS + ['--buffer_size', '500', '--help'])
    assert code == 0
    expected = {'--keep_ratio': '0.7', '--policy_penalty': '500.0', '--reward_weight': '0.5', '--prototype_loss': '0.3',
                '--alpha': '0.2', '--policy_alpha': '0.2', '--beta': '2.0', '--lr': '0.07', '--batch_size': '10',
                '--minibatch_size': '10', '--n_epochs': '1'}
    for flag, value in expected.items():
        assert option_help(out, flag).endswith(f'(default: {value})'), (flag, option_help(out, flag))
    code, out, _ = parse(DYNAMOS + ['--help'])  # without a buffer size: where the row's defaults are listed
    assert code == 0
    assert 'are listed by `--model dynamos --dataset seq-mnist --buffer_size N --help`' in ' '.join(out.split())

def test_help_without_model_and_dataset_lists_them(parse):
    code, out, _ = parse(['--help'])
    assert code == 0
    assert 'dynamos' in out and 'seq-mnist' in out and 'gated-resnet' in out
    assert '--model MODEL --dataset DATASET --help' in ' '.join(out.split())


# 4. backbone flags: help from the docstring

def test_every_backbone_flag_of_dynamos_has_a_help_text(parse):
    from backbone import REGISTERED_BACKBONES
    flags = REGISTERED_BACKBONES['gated-resnet']['parsable_args']
    assert set(flags) == {'num_classes', 'nf', 'temperature', 'hidden_dim_ratio', 'infer_mode', 'inf_thresh',
                          'agent_stride', 'memory_format', 'compile', 'gate', 'static_keep'}
    for name, spec in flags.items():
        assert spec.get('help'), name
    assert flags['nf']['help'] == 'width of the first stage (32 in the paper).'
    assert all(REGISTERED_BACKBONES['ungated-resnet']['parsable_args'][name].get('help')
               for name in ('nf', 'memory_format', 'compile'))
    _, out, _ = parse(DYNAMOS + ['--help'])
    text = ' '.join(out.split())
    assert '--temperature TEMPERATURE tau of the probability layer `sigmoid(v / tau)` (0.15 in the paper).' in text
    assert '--agent_stride {conv,1} stride of the pointwise convolution' in text
    assert '--memory_format {channels_last,contiguous} layout of the weights and activations' in text
    assert '--compile COMPILE 1 compiles the forward pass with `torch.compile`' in text


def test_docstring_args(mammoth_imported):
    from utils import docstring_args

    def fn(a, b, c=1, d=2):
        """Summary.

        Args:
            a (int): first,
                continued.
            b: second: with a colon, and 100% sure
            c:
                on the next line

        Returns:
            d: not an argument
        """
    assert docstring_args(fn) == {'a': 'first, continued.', 'b': 'second: with a colon, and 100% sure',
                                  'c': 'on the next line'}


# 5. --device

@pytest.mark.parametrize('spec, expected', [
    ('cpu', ['cpu']), ('mps', ['mps']), ('cuda', ['cuda']), ('cuda:0', ['cuda:0']), ('cuda:10', ['cuda:10']),
    ('1', ['cuda:1']), ('cuda:0,cuda:1', ['cuda:0', 'cuda:1']), (' 0, cuda:2 ', ['cuda:0', 'cuda:2']),
])
def test_device_parsing(mammoth_imported, spec, expected):
    from utils.conf import parse_device
    assert parse_device(spec) == [torch.device(d) for d in expected]


@pytest.mark.parametrize('spec', ['gpu', 'cuda:', 'cuda:a', '', 'cpu,cuda:0', 'cuda,cuda:1'])
def test_an_invalid_device_is_an_argument_error(parse, spec):
    code, _, err = parse(DYNAMOS + ['--buffer_size', '500', '--device', spec])
    assert code == 2
    assert ': error: argument --device: invalid device' in err.splitlines()[-1]


def test_device_flags_parse(parse):
    for spec in ('cuda', 'cuda:1', 'cuda:0,cuda:1', 'cpu'):
        assert parse(DYNAMOS + ['--buffer_size', '500', '--device', spec]).device == spec


def test_a_gpu_the_machine_lacks_is_a_clear_error(mammoth_imported, monkeypatch):
    from utils import conf
    monkeypatch.delattr(conf.get_device, 'device', raising=False)  # chosen once per process: restored after
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match=rf'there is no GPU cuda:{torch.cuda.device_count()}'):
            conf.get_device(f'cuda:{torch.cuda.device_count()}')
    else:
        with pytest.raises(ValueError, match='no CUDA GPU is available'):
            conf.get_device('cuda')
    assert not hasattr(conf.get_device, 'device')
    assert conf.get_device('cpu') == torch.device('cpu')


# 7. data and checkpoint messages

def test_a_failed_download_gives_its_reason(mammoth_imported, tmp_path, monkeypatch):
    import torchvision.datasets.mnist
    from utils.conf import base_path
    from datasets.utils.mnist_data import load_mnist

    def offline(url, **kwargs):
        raise urllib.error.URLError('[Errno -2] Name or service not known')
    monkeypatch.setattr(torchvision.datasets.mnist, 'download_and_extract_archive', offline)
    monkeypatch.setattr(base_path, 'path', str(tmp_path / 'empty'), raising=False)
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(train=True)
    assert str(error.value).startswith(
        f'MNIST not found in {tmp_path / "empty" / "MNIST" / "raw"} and it could not be downloaded '
        '(downloading train-images-idx3-ubyte.gz failed: urlopen error [Errno -2] Name or service not known (no network?))')



def test_a_failed_load_leaves_no_folder_behind(mammoth_imported, tmp_path, monkeypatch):
    """`--base_path DIR` where DIR does not exist and MNIST cannot be downloaded: the clear error (patch 0005),
    and neither DIR nor DIR/MNIST/raw left behind as empty folders (patch 0019); a folder that existed stays."""
    import torchvision.datasets.mnist
    from utils.conf import base_path
    from datasets.utils.mnist_data import load_mnist

    def offline(url, **kwargs):
        raise urllib.error.URLError('[Errno -2] Name or service not known')
    monkeypatch.setattr(torchvision.datasets.mnist, 'download_and_extract_archive', offline)
    monkeypatch.setattr(base_path, 'path', str(tmp_path / 'none' / 'deeper') + '/', raising=False)
    with pytest.raises(FileNotFoundError, match='MNIST not found in'):
        load_mnist(train=True)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / 'kept').mkdir()
    monkeypatch.setattr(base_path, 'path', str(tmp_path / 'kept') + '/', raising=False)
    with pytest.raises(FileNotFoundError, match='MNIST not found in'):
        load_mnist(train=True)
    assert [p.name for p in tmp_path.iterdir()] == ['kept'] and list((tmp_path / 'kept').iterdir()) == []


def test_a_device_the_machine_lacks_stops_the_run_before_the_configuration_box(parse, monkeypatch):
    """`--device cuda` without a GPU: the error comes from parsing (patch 0019), before the configuration box
    that parsing prints last, and no device is chosen."""
    from utils import conf
    monkeypatch.delattr(conf.get_device, 'device', raising=False)  # chosen once per process: restored after
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match='no CUDA GPU is available'):
        parse(DYNAMOS + ['--buffer_size', '500', '--device', 'cuda'], verbose=True)
    assert not hasattr(conf.get_device, 'device')


def test_the_default_data_folder_is_outside_mammoth(monkeypatch, tmp_path):
    """Without `--base_path`, the plugin's default: `$DYNAMOS_DATA` (made absolute), else `data/` of the
    repository, never inside the `mammoth/` submodule."""
    import dynamos_plugin
    from dynamos_plugin.glue.paths import MAMMOTH, REPO
    monkeypatch.delenv('DYNAMOS_DATA', raising=False)
    assert dynamos_plugin.default_data_path() == str(REPO / 'data')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('DYNAMOS_DATA', 'here')
    assert dynamos_plugin.default_data_path() == str(tmp_path / 'here')
    assert not dynamos_plugin.default_data_path().startswith(str(MAMMOTH))

def test_checkpoint_messages(mammoth_imported, tmp_path):
    from utils.checkpoints import mammoth_load_checkpoint

    with pytest.raises(FileNotFoundError, match=f'The checkpoint {tmp_path / "none.pt"} does not exist'):
        mammoth_load_checkpoint(str(tmp_path / 'none.pt'), return_only_args=True)
    with pytest.raises(FileNotFoundError, match=r'The checkpoint none\.pt does not exist \(looked for /'):
        mammoth_load_checkpoint('none.pt', return_only_args=True)

    not_mammoth = tmp_path / 'array.pt'
    torch.save({'data': np.zeros(3)}, not_mammoth)  # needs weights_only=False: torch would advise it
    with pytest.raises(ValueError) as error:
        mammoth_load_checkpoint(str(not_mammoth), return_only_args=True)
    assert str(error.value).startswith(f'Cannot read the checkpoint {not_mammoth}: it is not a Mammoth checkpoint.')
    assert 'weights_only' not in str(error.value)

    text = tmp_path / 'notes.pt'
    text.write_text('not a checkpoint')
    with pytest.raises(ValueError, match='it is not a Mammoth checkpoint'):
        mammoth_load_checkpoint(str(text), return_only_args=True)

    truncated = tmp_path / 'truncated.pt'
    torch.save({'w': torch.zeros(1000)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.raises(ValueError, match=f'Cannot read the checkpoint {truncated}: the file is corrupt or truncated'):
        mammoth_load_checkpoint(str(truncated), return_only_args=True)
