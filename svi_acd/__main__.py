import sys

from svi_acd.cli import main

sys.exit(main())
