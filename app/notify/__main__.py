import asyncio
import sys

from . import _main

sys.exit(asyncio.run(_main()))
