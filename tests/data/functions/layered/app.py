"""Imports modules from its layers (tests/data/layers/one, two) and runs a
tool from one's bin/: tests/platform/test_layers.sh."""
import os
import subprocess

import greet
import only1
import shared

print("init layered pid=%d" % os.getpid())


def handler(event, context):
    return {
        "who": greet.WHO,
        "shared": shared.ORIGIN,
        "only1": only1.X,
        "greet_file": greet.__file__,
        "tool": subprocess.run(["hello-tool"], capture_output=True, text=True).stdout.strip(),
        "opt": sorted(os.listdir("/opt")),
        "ld": os.environ["LD_LIBRARY_PATH"],
        "path": os.environ["PATH"],
        "layer_dirs": os.environ.get("NERD_LAYER_DIRS"),
    }
