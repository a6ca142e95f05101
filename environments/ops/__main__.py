import sys

from environments.ops.host import main

sys.exit(main())
