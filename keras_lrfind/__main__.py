"""`python -m keras_lrfind`: the same command line as `keras-lrfind`."""

import sys

from keras_lrfind.cli import main

sys.exit(main())
