from .capture import Capture, capture, capture_vision
from .capture_file import load, CaptureFileError

__version__ = "0.1.0"
