"""The GitHub Actions runner's door: `python entrypoint.py` from the action's root."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from openproducer.action import main

if __name__ == "__main__":
    sys.exit(main())
