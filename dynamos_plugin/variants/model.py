"""
``dynamos-variants``: Dynamos with the research variants and probes of the MNIST-360 agents study
(``results/studies/mnist360-agents/``). None of them is in the paper; with none given, this model trains
exactly as ``dynamos``.

- ``--gate_estimator straight_through``: train with the test gate ``p >= inf_thresh`` and a straight-through
  gradient; the agents' loss of a batch is the keep-rate loss (:func:`~dynamos_plugin.variants.losses.keep_rate_loss`),
  weighted by ``--keep_rate_weight`` in Eq. 7 where the paper's policy loss has gamma;
- ``--agent_lr``: a learning rate of the agents' own, apart from the network's ``--lr``;
- ``--routing_distill W``: hold the routing of the buffer's samples in place, with a binary cross-entropy
  between their current keep probabilities and the masks they had when stored;
- ``--freeze_agents_after N``: after N training steps the agents stop learning (their weights and
  batch-norm statistics are fixed; the losses that only exist to train them, policy, prototype and
  attention consistency, are dropped);
- ``--drift_every N``: measure how the test-time masks of the buffer's samples change along the stream, and
  each class's accuracy at every evaluation (:mod:`dynamos_plugin.variants.drift`); it changes nothing in training.

Each flag means what it meant as a flag of ``dynamos`` (the study's committed records were made that way).
"""

import logging

import torch

from models import register_model

from dynamos_plugin.argtypes import non_negative_float, non_negative_int, positive_float
from dynamos_plugin.dynamos import Dynamos, StepTerms
from dynamos_plugin.losses import total_loss
from dynamos_plugin.variants import drift
from dynamos_plugin.variants.losses import keep_rate_loss, routing_distillation_loss


@register_model('dynamos-variants')
class DynamosVariants(Dynamos):
    """Dynamos with opt-in research variants (not in the paper)."""
    NAME = 'dynamos-variants'

    @staticmethod
    def get_parser(parser):
        Dynamos.get_parser(parser)
        parser.add_argument('--gate_estimator', choices=['reinforce', 'straight_through'], default='reinforce',
                            help='reinforce: the paper (sampled actions, the policy loss of Eq. 3-4). straight_through: '
                                 'train with the test-time gate p >= inf_thresh and a straight-through gradient to p; '
                                 'the policy loss is replaced by the batch keep-rate loss sum_l (mean kept_l - kr)^2, '
                                 'weighted by --keep_rate_weight.')
        parser.add_argument('--keep_rate_weight', type=non_negative_float, default=10.0,
                            help='With --gate_estimator straight_through: weight of the keep-rate loss (in place of '
                                 'gamma, --reward_weight, which weighs the policy loss).')
        parser.add_argument('--agent_lr', type=positive_float, default=None,
                            help="Learning rate of the agents' parameters (default: --lr, as in the paper).")
        parser.add_argument('--freeze_agents_after', type=non_negative_int, default=0,
                            help='After this many training steps (counted over the whole run), the agents stop '
                                 'learning: their weights and batch-norm statistics stay fixed and the policy, '
                                 'prototype and attention-consistency losses are dropped. 0: never.')
        parser.add_argument('--routing_distill', type=non_negative_float, default=0.0,
                            help="Weight of the routing distillation loss: the buffer samples' current keep "
                                 'probabilities against the masks they had when stored (binary cross-entropy; '
                                 'the stored mask is the sign of the stored attention vector). 0: off (the paper).')
        parser.add_argument('--drift_every', type=non_negative_int, default=0,
                            help="Every this many steps, log per class how many of the buffer samples' test-time "
                                 'masks changed since the last time, and after each evaluation each class\'s test '
                                 'accuracy. Measurement only: training is unchanged. 0: off.')
        return parser

    def __init__(self, backbone, loss, args, transform, dataset=None):
        if args.drift_every and getattr(backbone, 'infer_mode', 'threshold') != 'threshold':
            raise ValueError('--drift_every measures the test-time (thresholded) masks: use it with --infer_mode threshold.')
        super().__init__(backbone, loss, args, transform, dataset=dataset)
        self.straight_through = self.args.gate_estimator == 'straight_through'
        self.net.train_gate = 'straight_through' if self.straight_through else 'sample'
        self.steps = 0  # training steps taken over the whole run (for --freeze_agents_after and --drift_every)
        self.frozen = False  # whether this step's agents no longer learn
        self._drift_snapshot = None  # (examples, masks) of the buffer at the last drift measurement

    def get_parameters(self):
        """The optimiser's parameters: one group, or, with ``--agent_lr``, the agents' in a group of their own."""
        if self.args.agent_lr is None:
            return self.net.parameters()
        agent_ids = {id(p) for agent in self.net.agents for p in agent.parameters()}
        return [{'params': [p for p in self.net.parameters() if id(p) not in agent_ids]},
                {'params': [p for agent in self.net.agents for p in agent.parameters()], 'lr': self.args.agent_lr}]

    # ---- the two extension points of Dynamos -----------------------------------------------------

    def gate_loss(self, decisions, correct):
        """The keep-rate loss under the straight-through gate, the paper's policy loss otherwise."""
        if not self.straight_through:
            return super().gate_loss(decisions, correct)
        return keep_rate_loss(torch.stack([d.actions.mean(dim=1) for d in decisions], dim=1), self.args.keep_ratio)

    def total_loss(self, terms: StepTerms) -> torch.Tensor:
        """Eq. 7 with the keep-rate weight under the straight-through gate, plus the routing distillation; once the
        agents are frozen, only the network's own terms: ``CE(B) + beta CE(M) + alpha MSE(Z_M)``."""
        a = self.args
        if self.frozen:
            return terms.ce + a.beta * terms.buf_ce + a.alpha * terms.consistency_z
        gamma = a.keep_rate_weight if self.straight_through else a.reward_weight
        loss = total_loss(terms, gamma, a.beta, a.alpha, a.policy_alpha, a.prototype_loss)
        if a.routing_distill and terms.replay is not None:
            current = torch.cat([d.logits for d in terms.replay.decisions], dim=1)
            loss = loss + a.routing_distill * routing_distillation_loss(current, terms.stored_attention)
        return loss

    def agents_frozen(self) -> bool:
        """Whether the agents have had their ``--freeze_agents_after`` steps: from the next step on they no longer learn."""
        return 0 < self.args.freeze_agents_after <= self.steps

    def observe(self, inputs, labels, not_aug_inputs, epoch=None):
        self.frozen = self.agents_frozen()
        self.steps += 1
        if self.args.drift_every and self.steps % self.args.drift_every == 0:
            self.measure_drift()
        if self.frozen and not self.in_warmup(epoch):
            self.freeze_agents()
        return super().observe(inputs, labels, not_aug_inputs, epoch)

    # ---- --freeze_agents_after and --drift_every ------------------------------------------------

    def freeze_agents(self) -> None:
        """Fixes the agents' weights and batch-norm statistics (Mammoth sets the network back to training mode at
        every epoch, so this is applied at every step once frozen)."""
        for agent in self.net.agents:
            agent.eval()
            for parameter in agent.parameters():
                parameter.requires_grad_(False)
                parameter.grad = None

    def measure_drift(self) -> None:
        """Logs, per class, how the test-time masks of the buffer's samples changed since the last measurement."""
        slots = self.buffer.written_slots()
        if slots.numel() == 0:
            return
        examples = self.buffer.examples.clone()
        masks = torch.zeros(examples.shape[0], sum(agent.bn.num_features for agent in self.net.agents),
                            dtype=torch.bool, device=examples.device)
        masks[slots] = drift.thresholded_masks(self.net, examples[slots].to(self.device)).to(masks.device)
        if self._drift_snapshot is not None:
            same, flipped = drift.mask_flips(*self._drift_snapshot, examples, masks)
            written = torch.zeros_like(same)
            written[slots] = True
            logging.info(drift.drift_line(self.steps, drift.drift_by_class(self.buffer.labels, same & written, flipped)))
        self._drift_snapshot = (examples, masks)

    def end_eval(self, dataset, accs) -> None:
        """With ``--drift_every``: each class's accuracy in Mammoth's evaluation of this task (patch 0016)."""
        if self.args.drift_every and getattr(self, 'class_accuracy', None) is not None:
            logging.info(drift.class_accuracy_line(self.class_accuracy))
