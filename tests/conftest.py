import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
# The engine's small operations run fastest on one thread, and a second thread stalls
# whenever CI shares the cores (the CLI makes the same choice by default).
torch.set_num_threads(1)
