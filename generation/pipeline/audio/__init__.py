"""The ad's music: check an upload (`probe`), make it ready for one ad (`prepare`), find its beats (`rhythm`) and
put it under the finished video (`mux`). Pure: paths and arrays in and out, nothing from the database."""

from .mux import mux_audio, video_seconds
from .prepare import PreparedTrack, prepare_track
from .probe import MAX_BYTES, MAX_SECONDS, AudioInvalid, TrackInfo, probe_track
from .rhythm import beats

__all__ = [
    "MAX_BYTES",
    "MAX_SECONDS",
    "AudioInvalid",
    "PreparedTrack",
    "TrackInfo",
    "beats",
    "mux_audio",
    "prepare_track",
    "probe_track",
    "video_seconds",
]
