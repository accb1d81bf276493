"""The 32x32 Seq-SVHN benchmark (dynamos_plugin/seq_svhn32.py) in-process: its protocol (Table 5 row, tasks, loaders)
on generated SVHN files."""


def test_seq_svhn32_protocol(svhn_dir, mammoth_imported):
    import main
    from datasets import get_dataset
    args = main.parse_args(['--model', 'dynamos', '--dataset', 'seq-svhn32', '--buffer_size', '500',
                            '--base_path', str(svhn_dir)])
    assert (args.n_epochs, args.batch_size, args.warmup, args.alpha, args.policy_alpha) == (70, 16, 10, 2.0, 1.0)
    from utils.conf import base_path
    base_path(args.base_path)
    dataset = get_dataset(args)
    assert (dataset.N_TASKS, dataset.N_CLASSES_PER_TASK) == (5, 2)
    train, test = dataset.get_data_loaders()
    x, y, not_aug = next(iter(train))[:3]
    assert x.shape[1:] == (3, 32, 32) and 0 <= x.min() and x.max() <= 1  # ToTensor only
    assert set(y.tolist()) <= {0, 1}  # task 1: digits 0 and 1 (label 10 is digit 0)
