#!/usr/bin/env python3
"""Checks that our Swift safetensors code interoperates with the Python `safetensors` library.

1. Python writes python-written.safetensors.
2. The Swift test SafeTensorsTests.testPythonInterop reads it, checks the values, and writes
   the same tensors and metadata to swift-written.safetensors.
3. Python loads the Swift file, compares tensors and metadata, and compares it byte for byte
   with what Python itself writes for the same input.

Needs: pip install safetensors numpy. Run from the package root:
    python3 Scripts/check-safetensors.py [--scratch-path DIR]   (default: the tests already built in .build)
LLM_TRAIN_TEST_BUILD holds the `swift test` build options of those tests (Scripts/test.sh sets
it: "-c release -Xswiftc -enable-testing"); unset, the debug build.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file, save_file, save

# One metadata key only: the Python library keeps metadata in a hash map, so with several keys
# its own byte order is not deterministic and a byte-for-byte comparison would be meaningless.
METADATA = {"step": "123"}
TENSORS = {
    "wte": (np.arange(12, dtype=np.float32) * 0.25 - 1).reshape(4, 3),
    "ln_f.bias": np.array([0.5, -0.5, 1e-3], dtype=np.float32),
    "scalar": np.array(3.5, dtype=np.float32),
    "empty": np.zeros((0, 5), dtype=np.float32),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scratch-path", help="build the tests in DIR (default: reuse the tests built in .build)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        save_file(TENSORS, os.path.join(directory, "python-written.safetensors"), metadata=METADATA)

        env = dict(os.environ, SAFETENSORS_INTEROP_DIR=directory)
        test = subprocess.run(
            ["swift", "test"] + shlex.split(os.environ.get("LLM_TRAIN_TEST_BUILD", ""))
            + ["--disable-swift-testing", "--filter", "LLMTrainTests.SafeTensorsTests/testPythonInterop"]
            + (["--scratch-path", args.scratch_path] if args.scratch_path else ["--skip-build"]),
            env=env, capture_output=True, text=True)
        swift_file = os.path.join(directory, "swift-written.safetensors")
        if test.returncode != 0 or not os.path.exists(swift_file):
            print(test.stdout[-4000:], test.stderr[-4000:], sep="\n")
            sys.exit("FAIL: the Swift side could not read the Python file or write its own")

        loaded = load_file(swift_file)
        assert set(loaded) == set(TENSORS), f"tensor names differ: {sorted(loaded)}"
        for name, expected in TENSORS.items():
            assert loaded[name].dtype == np.float32, f"{name}: dtype {loaded[name].dtype}"
            assert loaded[name].shape == expected.shape, f"{name}: shape {loaded[name].shape}"
            assert np.array_equal(loaded[name], expected), f"{name}: values differ"

        from safetensors import safe_open
        with safe_open(swift_file, framework="numpy") as f:
            assert f.metadata() == METADATA, f"metadata differs: {f.metadata()}"

        with open(swift_file, "rb") as f:
            swift_bytes = f.read()
        python_bytes = save(TENSORS, metadata=METADATA)
        assert swift_bytes == python_bytes, (
            f"files differ:\nswift  {swift_bytes[:200]!r}\npython {python_bytes[:200]!r}")

    print("OK: Swift reads Python's file; Python reads Swift's file; "
          f"Swift's output is byte-identical to Python's ({len(swift_bytes)} bytes)")


if __name__ == "__main__":
    main()
