"""
The Eq. 8 baseline of the paper's Table 1 (``--model msa``): Dynamos without its agents.

The paper calls its terms "multi-scale associations" (cross-entropy on the buffer, logit consistency);
this repository calls the model the Eq. 8 baseline, and ``msa`` is its name on the command line.

``L_base = CE(B) + beta * CE(M) + alpha * MSE(Z_M, Z_stored)`` on one replay batch ``M`` per
step, with Dynamos' add-if-correct reservoir buffer (logits only) and the un-gated twin of
Dynamos' backbone. It differs from Mammoth's DER++, which draws two replay batches and
writes every stream sample.
"""

from models import register_model
from models.utils.continual_model import ContinualModel
from utils.args import ArgumentParser

from dynamos_plugin.buffer import DynamosBuffer, LoadsBuffer, add_buffer_args
from dynamos_plugin.losses import consistency_loss
from dynamos_plugin.argtypes import non_negative_float


@register_model('msa')
class Eq8Baseline(LoadsBuffer, ContinualModel):
    """The Eq. 8 baseline: Dynamos without agents, replay with cross-entropy and logit consistency."""
    NAME = 'msa'
    COMPATIBILITY = ['class-il', 'domain-il', 'task-il', 'general-continual']
    DEFAULT_MODEL_CONFIG = 'best'  # config/msa.yaml: Dynamos' alpha, beta, batch sizes and lr

    @staticmethod
    def get_parser(parser) -> ArgumentParser:
        add_buffer_args(parser)
        parser.add_argument('--alpha', type=non_negative_float, required=True,
                            help='alpha of Eq. 8: weight of the logit consistency loss.')
        parser.add_argument('--beta', type=non_negative_float, required=True,
                            help='beta of Eq. 8: weight of the buffer\'s cross-entropy.')
        parser.set_defaults(backbone='ungated-resnet')
        return parser

    def __init__(self, backbone, loss, args, transform, dataset=None):
        super().__init__(backbone, loss, args, transform, dataset=dataset)
        self.buffer = DynamosBuffer(self.args.buffer_size)

    def observe(self, inputs, labels, not_aug_inputs, epoch=None):
        self.opt.zero_grad()
        outputs = self.net(inputs)
        loss = self.loss(outputs, labels)
        if not self.buffer.is_empty():
            buf_inputs, buf_labels, buf_logits = self.buffer.get_data(
                self.args.minibatch_size, transform=self.transform, device=self.device)
            buf_outputs = self.net(buf_inputs)
            loss = loss + self.args.beta * self.loss(buf_outputs, buf_labels) \
                + self.args.alpha * consistency_loss(buf_outputs, buf_logits)  # Eq. 8
        loss.backward()
        self.opt.step()
        self.buffer.add_data(examples=not_aug_inputs, labels=labels,
                             correct=outputs.detach().argmax(dim=1) == labels, logits=outputs.detach())
        return loss.item()
