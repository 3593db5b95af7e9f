"""A local, in-memory emulator of the part of GitHub's REST API that OpenProducer uses."""

from .faults import Fault
from .server import GitHubEmulator, RequestRecord

__all__ = ["Fault", "GitHubEmulator", "RequestRecord"]
