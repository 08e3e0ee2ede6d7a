# -*- Python -*-
# lit configuration for nnc: runs nnc, nnc-opt and LLVM's FileCheck/not over
# the .nnir and .nn files under this folder.
import os

import lit.formats
from lit.llvm import llvm_config

if not hasattr(config, "nnc_obj_root"):
    # lit was pointed at the source tree: use the build's site configuration,
    # which sets nnc_obj_root and loads this file again.
    build = os.environ.get(
        "NNC_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    lit_config.load_config(
        config, os.path.join(os.path.abspath(build), "tests", "lit", "lit.site.cfg.py"))
else:
    config.name = "nnc"
    config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
    config.suffixes = [".nnir", ".nn", ".test"]
    config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
    config.test_source_root = os.path.dirname(__file__)
    config.test_exec_root = os.path.join(config.nnc_obj_root, "tests", "lit")

    config.substitutions.append(("%examples", config.nnc_examples_dir))
    config.substitutions.append(("%mnist_dir", config.nnc_mnist_dir))

    # nnc's tools first, then FileCheck and not from LLVM 19.
    llvm_config.with_environment("PATH", config.nnc_tools_dir, append_path=True)
    llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
    llvm_config.with_system_environment(["HOME", "TMPDIR", "OPENBLAS_CORETYPE"])

    if os.path.exists(os.path.join(config.nnc_mnist_dir, "train-images-idx3-ubyte")):
        config.available_features.add("mnist")
