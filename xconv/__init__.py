"""xconv: exact N-d convolution for any array-API array.

>>> import numpy as np, xconv
>>> x = np.ones((1, 3, 8, 8), dtype=np.float32)
>>> w = np.ones((4, 3, 3, 3), dtype=np.float32)
>>> xconv.conv(x, w, padding="same").shape
(1, 4, 8, 8)
"""

from .config import (
    default_algorithm,
    get_default_algorithm,
    get_thread_limit,
    get_workspace_limit,
    set_workspace_limit,
    thread_limit,
    workspace_limit,
)
from .forward import conv, output_shape
from .gradients import conv_transpose_vjp, conv_vjp
from .operations import load_plan, plan
from .plans import Plan
from .spec import ConvSpec
from .transposed import conv_transpose

__version__ = "0.1.0"

__all__ = [
    "ConvSpec",
    "Plan",
    "conv",
    "conv_transpose",
    "conv_transpose_vjp",
    "conv_vjp",
    "default_algorithm",
    "get_default_algorithm",
    "get_thread_limit",
    "get_workspace_limit",
    "load_plan",
    "output_shape",
    "plan",
    "set_workspace_limit",
    "thread_limit",
    "workspace_limit",
]
