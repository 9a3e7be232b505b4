"""``python -m capsnet_lib``: see :mod:`capsnet_lib.cli`."""

from capsnet_lib.cli import main

raise SystemExit(main())
