import sys

from hazmon.simulators.cli import main

sys.exit(main())
