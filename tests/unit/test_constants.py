import pytest

from generation.constants import frame_count, frame_size


@pytest.mark.parametrize(
    ("resolution", "aspect", "size"),
    [
        ("480p", "9:16", (480, 832)),
        ("480p", "1:1", (640, 640)),
        ("480p", "16:9", (832, 480)),
        ("480p", "4:5", (512, 640)),
        ("720p", "9:16", (720, 1280)),
        ("720p", "1:1", (960, 960)),
        ("720p", "16:9", (1280, 720)),
        ("720p", "4:5", (768, 960)),
    ],
)
def test_frame_sizes_follow_the_contract(resolution, aspect, size):
    assert frame_size(resolution, aspect) == size
    assert size[0] % 16 == 0 and size[1] % 16 == 0


@pytest.mark.parametrize(("seconds", "fps", "frames"), [(5, 16, 81), (3, 16, 49), (10, 16, 161), (1, 16, 17)])
def test_frame_count_is_4k_plus_1(seconds, fps, frames):
    assert frame_count(seconds, fps) == frames
