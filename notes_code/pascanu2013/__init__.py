r"""Pascanu, Mikolov & Bengio (2013), *On the difficulty of training recurrent neural networks*.

Executable notes on the paper: the RNN of eq. (2), explicit BPTT (eqs. 3-5), step
Jacobians and the vanishing/exploding conditions (eqs. 5-7), gradient-norm clipping
(Algorithm 1), the regulariser $\Omega$ (eqs. 9-10) and the one-unit dynamics behind
Figs. 3 and 6.

Paper: <https://arxiv.org/abs/1211.5063>

```text
@inproceedings{pascanu2013difficulty,
  title     = {On the difficulty of training recurrent neural networks},
  author    = {Pascanu, Razvan and Mikolov, Tomas and Bengio, Yoshua},
  booktitle = {Proceedings of the 30th International Conference on Machine Learning},
  series    = {Proceedings of Machine Learning Research},
  volume    = {28},
  number    = {3},
  pages     = {1310--1318},
  year      = {2013},
  note      = {arXiv:1211.5063},
}
```
"""

from .activations import activation_derivative, activation_fn, derivative_from_output
from .bptt import (
    BPTTResult,
    explicit_bptt,
    immediate_state_grads,
    model_bptt,
    temporal_contributions,
)
from .clipping import (
    clip_grad_norm_,
    clip_grad_norm_with_fallback_,
    clip_grad_value_,
    clip_temporal_contributions_,
    grad_norm,
)
from .dynamics import (
    Bifurcation,
    FixedPoint,
    basin_of,
    bifurcation_diagram,
    bistable_range,
    fixed_points,
    iterate,
    one_unit_map,
)
from .error_surface import (
    ErrorSurface,
    Trajectory,
    WallDemo,
    descend,
    error_surface,
    error_surface_grid,
    line_derivatives,
    wall_demo,
)
from .init import orthogonal, spectral_radius
from .jacobians import (
    JacobianNorms,
    gamma,
    jacobian_norms_vs_lag,
    jacobian_products,
    largest_singular_value,
    scale_to,
    singular_values,
    spectral_norms,
    step_jacobian,
)
from .recurrence import rnn_state_list, rnn_states
from .regularized_training import (
    OmegaDemo,
    OmegaStep,
    backward_with_omega,
    loss_and_grads,
    omega_training_demo,
)
from .regularizer import (
    backprop_ratios,
    omega,
    omega_and_grad,
    omega_grad_W_rec,
    omega_terms,
)
from .rnn import PascanuRNN, RNNOutput

__all__ = [
    "BPTTResult",
    "Bifurcation",
    "ErrorSurface",
    "FixedPoint",
    "JacobianNorms",
    "OmegaDemo",
    "OmegaStep",
    "PascanuRNN",
    "RNNOutput",
    "Trajectory",
    "WallDemo",
    "activation_derivative",
    "activation_fn",
    "backprop_ratios",
    "backward_with_omega",
    "basin_of",
    "bifurcation_diagram",
    "bistable_range",
    "clip_grad_norm_",
    "clip_grad_norm_with_fallback_",
    "clip_grad_value_",
    "clip_temporal_contributions_",
    "derivative_from_output",
    "descend",
    "error_surface",
    "error_surface_grid",
    "explicit_bptt",
    "fixed_points",
    "gamma",
    "grad_norm",
    "immediate_state_grads",
    "iterate",
    "jacobian_norms_vs_lag",
    "jacobian_products",
    "largest_singular_value",
    "line_derivatives",
    "loss_and_grads",
    "model_bptt",
    "omega",
    "omega_and_grad",
    "omega_grad_W_rec",
    "omega_terms",
    "omega_training_demo",
    "one_unit_map",
    "orthogonal",
    "rnn_state_list",
    "rnn_states",
    "scale_to",
    "singular_values",
    "spectral_norms",
    "spectral_radius",
    "step_jacobian",
    "temporal_contributions",
    "wall_demo",
]
