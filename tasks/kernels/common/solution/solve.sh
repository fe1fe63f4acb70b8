#!/bin/bash
# The oracle of a kernels task: replace the reference kernel with the optimized one.
set -eu
cp /solution/kernel.c /workspace/kernel.c
