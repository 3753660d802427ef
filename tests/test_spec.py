import pytest

from fpnscope.analysis.measure.geometry import infer_stride
from fpnscope.spec import LevelSpec, feature_size, is_power_of_two, level_name, stride_of_name


@pytest.mark.parametrize(("stride", "name"), [(1, "P0"), (4, "P2"), (8, "P3"), (128, "P7"), (12, "Ps12")])
def test_level_name_is_log2_of_stride(stride, name):
    assert level_name("P", stride) == name


def test_stride_of_name_round_trips():
    assert [stride_of_name(level_name("C", 2**i)) for i in range(8)] == [2**i for i in range(8)]
    assert stride_of_name("pool") is None


@pytest.mark.parametrize(
    ("inp", "out", "stride"),
    [
        ((800, 1333), (200, 334), 4),
        ((800, 1333), (100, 167), 8),
        ((800, 1333), (50, 84), 16),
        ((800, 1333), (25, 42), 32),
        ((800, 1333), (13, 21), 64),  # max-pool rounding up 25 -> 13
        ((800, 1333), (7, 11), 128),
        ((511, 511), (255, 255), 2),  # floor rounding
        ((96, 96), (8, 8), 12),  # not a power of two
    ],
)
def test_infer_stride(inp, out, stride):
    assert infer_stride(inp, out) == stride


def test_feature_size_rounding():
    assert feature_size(1333, 8) == 167
    assert feature_size(1333, 8, "floor") == 166


def test_power_of_two():
    assert [n for n in range(0, 20) if is_power_of_two(n)] == [1, 2, 4, 8, 16]


def test_levelspec_is_frozen_and_renames():
    spec = LevelSpec.of("C", 256, 16)
    assert spec.renamed("P") == LevelSpec("P4", 256, 16)
    with pytest.raises(AttributeError):
        spec.channels = 1  # type: ignore[misc]
