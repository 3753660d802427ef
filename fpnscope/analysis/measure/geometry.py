"""Which stride a feature map is at, from its size and the input's: the arithmetic of levels.

Pure functions (no torch). Convolutions round sizes up or down; token sequences (ViT) and windowed
tokens (Swin) find their level by their patch grid.
"""

from __future__ import annotations

import math

from fpnscope.spec import is_power_of_two


def infer_stride(in_size: tuple[int, int], out_size: tuple[int, int], prefer: int | None = None) -> int:
    """The integer stride that maps an input size to a feature size.

    A stride ``s`` explains a feature size ``h`` when ``h`` is ``floor(H / s)`` or ``ceil(H / s)``
    for both dimensions (convolutions round either way). ``prefer`` (a declared stride) wins when
    it explains the size, which settles tiny inputs where several strides do; then powers of two,
    then the integer nearest to the ratio.

    >>> infer_stride((800, 1333), (25, 42)), infer_stride((33, 17), (2, 1)), infer_stride((33, 17), (2, 1), 32)
    (32, 16, 32)
    """
    (big_h, big_w), (h, w) = in_size, out_size
    if h <= 0 or w <= 0:
        return prefer or 0
    ratio = max(big_h / h, big_w / w)

    def explains(s: int) -> bool:
        return all(
            n in (size // s, -(-size // s)) for size, n in ((big_h, h), (big_w, w))
        )

    if prefer and explains(prefer):
        return prefer

    near = max(1, round(ratio))
    candidates = sorted({2 ** round(math.log2(max(ratio, 1))), near, near - 1, near + 1} - {0})
    powers = [s for s in candidates if is_power_of_two(s) and explains(s)]
    if powers:
        return powers[0]
    others = [s for s in candidates if explains(s)]
    return min(others, key=lambda s: abs(s - ratio)) if others else near


def explains(in_size: tuple[int, int], out_size: tuple[int, int], stride: int) -> bool:
    """Whether ``stride`` gives ``out_size`` from ``in_size`` by rounding down or up on both sides.

    >>> explains((299, 299), (35, 35), 8), explains((800, 1333), (100, 167), 8)
    (False, True)
    """
    return stride > 0 and all(n in (size // stride, -(-size // stride)) for size, n in zip(in_size, out_size))


def within_border(in_size: tuple[int, int], out_size: tuple[int, int], stride: int, loss: float = 5.0) -> bool:
    """Whether ``stride`` explains ``out_size`` once a few border pixels are lost to unpadded
    convolutions (Inception: 299 gives 35 at stride 8): ``H/s - loss <= h <= ceil(H/s)``.

    >>> within_border((299, 299), (35, 35), 8), within_border((299, 299), (35, 35), 16)
    (True, False)
    """
    return stride > 0 and all(size / stride - loss <= n <= -(-size // stride) for size, n in zip(in_size, out_size))


def grown_stride(sizes: tuple[int, int], other: tuple[int, int], step: tuple[int, int]) -> int | None:
    """The stride a level's growth gives: ``step`` more input pixels make ``other - sizes`` more
    level pixels, on both sides alike; None when the growth is not a whole stride.

    >>> grown_stride((35, 35), (39, 39), (32, 32)), grown_stride((35, 35), (36, 37), (32, 32))
    (8, None)
    """
    strides = set()
    for a, b, step_ in zip(sizes, other, step):
        if b <= a or step_ % (b - a):
            return None
        strides.add(step_ // (b - a))
    return strides.pop() if len(strides) == 1 else None


def explained_stride(in_size: tuple[int, int], out_size: tuple[int, int]) -> int | None:
    """The integer stride that maps ``in_size`` to ``out_size`` by floor or ceil, else None.

    >>> explained_stride((800, 1333), (100, 167)), explained_stride((64, 64), (4096, 4096))
    (8, None)
    """
    stride = infer_stride(in_size, out_size)
    ok = stride > 0 and all(
        n in (size // stride, -(-size // stride)) for size, n in zip(in_size, out_size)
    )
    return stride if ok else None


# Window sides of the windowed-attention backbones in timm (Swin, Swin V2, and their kin).
WINDOW_SIDES = (7, 8, 12, 14, 16, 24)


def token_stride(in_size: tuple[int, int], tokens: float, max_prefix: int = 16) -> int | None:
    """The power-of-two stride whose patch grid holds ``tokens`` tokens, else None: how a ViT's
    (B, N, C) activations find their level. A few prefix tokens (class, register) are allowed.

    >>> token_stride((1024, 1024), 4096), token_stride((224, 224), 197)
    (16, 16)
    """
    height, width = in_size
    for power in range(8):
        stride = 2**power
        for grid in ((-(-height // stride)) * (-(-width // stride)), (height // stride) * (width // stride)):
            if grid and grid <= tokens <= grid + max_prefix:
                return stride
    return None


def window_stride(in_size: tuple[int, int], tokens: float, sides: tuple[int, ...] = WINDOW_SIDES) -> int | None:
    """The stride whose patch grid, padded to whole windows of one of ``sides``, holds exactly
    ``tokens`` tokens: how Swin's windowed activations find their level.

    >>> window_stride((256, 256), 441)  # 16×16 at stride 16, padded to 3×3 windows of 7
    16
    """
    height, width = in_size
    for power in range(8):
        stride = 2**power
        rows, cols = -(-height // stride), -(-width // stride)
        for side in sides:
            if -(-rows // side) * side * -(-cols // side) * side == tokens:
                return stride
    return None


def stride_of_shape(
    in_size: tuple[int, int], shape: tuple[int, ...], batch: int = 1, loose: bool = True
) -> int | None:
    """The stride of the level an activation of ``shape`` belongs to, or None.

    An NCHW map whose size a stride explains; a token sequence whose length is a patch grid, as
    (B, N, C) tokens, (B, heads, N, N) attention scores or (B*N, C) rows of a linear layer; windowed
    tokens (Swin's (B*windows, side², C)) whose total is the grid padded to whole windows. With
    ``loose``, a last guess: a (X, N, ...) block whose N alone is a grid (attention over heads
    folded into X); without it, None, so a caller can try the shape of the module's input first.

    >>> stride_of_shape((512, 512), (1, 256, 64, 64)), stride_of_shape((512, 512), (1, 12, 1024, 1024))
    (8, 16)
    >>> stride_of_shape((512, 512), (361, 49, 96)), stride_of_shape((512, 512), (2048, 768), batch=2)
    (4, 16)
    >>> stride_of_shape((224, 224), (192, 49, 49), loose=False) is None  # 3 heads × 64 windows
    True
    """
    if len(shape) == 4:
        stride = explained_stride(in_size, (shape[2], shape[3]))
        if stride is not None:
            return stride
        if shape[0] == batch:  # (B, heads, N, N or head_dim)
            stride = token_stride(in_size, shape[2])
            if stride is not None:
                return stride
    elif len(shape) == 3:
        if shape[0] == batch:
            return token_stride(in_size, shape[1])
        side = round(shape[1] ** 0.5)
        sides = (side,) if side * side == shape[1] and side > 1 else WINDOW_SIDES
        stride = window_stride(in_size, shape[0] * shape[1] / batch, sides)
        if stride is not None:
            return stride
    elif len(shape) == 2:
        rows = shape[0] / batch
        return token_stride(in_size, rows) or window_stride(in_size, rows)
    else:
        return None
    return token_stride(in_size, shape[-2]) if loose else None
