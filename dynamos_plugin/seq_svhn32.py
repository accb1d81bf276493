"""
Seq-SVHN as the paper ran it: the 32x32 cropped digits of SVHN (Netzer et al., 2011),
RGB, ``ToTensor`` only (no augmentation, no normalisation), 5 tasks of 2 classes, 70 epochs.

Mammoth's own ``seq-svhn`` is a different benchmark (224 px images for CLIP/ViT models),
and a plugin dataset registered under an existing name is replaced by the legacy class,
so this one is registered as ``seq-svhn32``. It reads ``<base_path>/SVHN/train_32x32.mat``
and ``test_32x32.mat`` through torchvision (downloaded there when missing and a network is
available).
"""

import os
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as transforms
from PIL import Image
from torchvision.datasets import SVHN

from datasets import register_dataset
from datasets.utils import set_default_from_args
from datasets.utils.continual_dataset import ContinualDataset, fix_class_names_order, store_masked_loaders
from utils.conf import base_path


class SVHN32(SVHN):
    """torchvision's SVHN with Mammoth's ``targets`` and (train split) the non-augmented image as third item.

    The files are checked for existence only (not re-hashed on every run); a download verifies them.
    """

    def __init__(self, root: str, train: bool = True, transform=None, download: bool = False) -> None:
        self.not_aug_transform = transforms.ToTensor()
        self.train = train
        split = 'train' if train else 'test'
        if os.path.isfile(os.path.join(root, self.split_list[split][1])):
            download = False  # present: torchvision would re-download a file whose MD5 it does not know
        super().__init__(root, split=split, transform=transform, download=download)
        self.targets = np.asarray(self.labels, dtype=np.int64)

    def _check_integrity(self) -> bool:
        return os.path.isfile(os.path.join(self.root, self.filename))

    def __getitem__(self, index: int):
        img = Image.fromarray(np.transpose(self.data[index], (1, 2, 0)))
        target = int(self.targets[index])
        not_aug_img = self.not_aug_transform(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.train:
            return img, target, not_aug_img
        return img, target


def load_svhn32(train: bool, transform) -> SVHN32:
    """The SVHN split from ``<base_path>/SVHN/``; a clear FileNotFoundError naming that folder when it is missing."""
    root = os.path.join(base_path(), 'SVHN')
    try:
        return SVHN32(root, train=train, transform=transform, download=True)
    except (RuntimeError, OSError) as e:
        raise FileNotFoundError(
            f'SVHN not found in {os.path.abspath(root)} and it could not be downloaded ({str(e).splitlines()[0]}). '
            'Put train_32x32.mat and test_32x32.mat there, or pass --base_path DIR where DIR/SVHN/ holds them.') from e


@register_dataset('seq-svhn32')
class SequentialSVHN32(ContinualDataset):
    """Seq-SVHN with the paper's protocol: 32x32 RGB, ToTensor only, 5 tasks of 2 classes."""
    NAME = 'seq-svhn32'
    SETTING = 'class-il'
    N_CLASSES_PER_TASK = 2
    N_TASKS = 5
    N_CLASSES = N_CLASSES_PER_TASK * N_TASKS
    SIZE = (32, 32)
    TRANSFORM = transforms.ToTensor()
    TEST_TRANSFORM = transforms.ToTensor()

    def get_data_loaders(self) -> Tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
        train_dataset = load_svhn32(train=True, transform=self.TRANSFORM)
        test_dataset = load_svhn32(train=False, transform=self.TEST_TRANSFORM)
        return store_masked_loaders(train_dataset, test_dataset, self)

    @staticmethod
    def get_transform():
        return None  # replayed buffer samples are used as stored: the protocol has no augmentation

    @set_default_from_args('backbone')
    def get_backbone():
        return 'ungated-resnet'

    @staticmethod
    def get_loss():
        return F.cross_entropy

    @staticmethod
    def get_normalization_transform():
        return None

    @staticmethod
    def get_denormalization_transform():
        return None

    @set_default_from_args('n_epochs')
    def get_epochs():
        return 70

    @set_default_from_args('batch_size')
    def get_batch_size():
        return 16

    def get_class_names(self):
        if self.class_names is not None:
            return self.class_names
        self.class_names = fix_class_names_order([str(i) for i in range(10)], self.args)
        return self.class_names
