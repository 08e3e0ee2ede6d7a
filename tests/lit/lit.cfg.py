# -*- Python -*-
# lit configuration for nnc: runs nnc, nnc-opt and LLVM's FileCheck/not over
# the .nnir and .nn files under this folder.
import os
import sys

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
    config.substitutions.append(("%python", config.python_executable))

    # nnc's tools first, then FileCheck and not from LLVM 19.
    llvm_config.with_environment("PATH", config.nnc_tools_dir, append_path=True)
    llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
    llvm_config.with_system_environment(["HOME", "TMPDIR", "OPENBLAS_CORETYPE"])

    if os.path.exists(os.path.join(config.nnc_mnist_dir, "train-images-idx3-ubyte")):
        config.available_features.add("mnist")

    # Optional tools (scripts/bootstrap.sh installs them): tests that need
    # one say REQUIRES and are reported as unsupported without it.
    import shutil
    import subprocess
    def missing(feature, what):
        lit_config.note(f"{what}: the tests that need it are skipped "
                        f"(REQUIRES: {feature}); scripts/bootstrap.sh installs it")

    if shutil.which("dot"):
        config.available_features.add("graphviz")
    else:
        missing("graphviz", "Graphviz's dot not found")
    if getattr(config, "nnc_have_png", "") in ("1", "ON", "TRUE"):
        config.available_features.add("libpng")
    else:
        missing("libpng", "nnc was built without libpng")
    if getattr(config, "nnc_have_onnx", "") in ("1", "ON", "TRUE"):
        config.available_features.add("nnc-onnx")
    else:
        missing("nnc-onnx", "nnc was built without ONNX (libonnx-dev)")

    def runs(*command):
        try:
            return subprocess.run(command, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False

    # ONNX's checker: Debian's python3-onnx, for Debian's Python (the
    # python3 first on PATH may be another one).
    for python in ("/usr/bin/python3", shutil.which("python3")):
        if python and runs(python, "-c", "import onnx"):
            config.available_features.add("onnx-checker")
            config.substitutions.append(("%onnx_python", python))
            break
    else:
        missing("onnx-checker", "no Python with the onnx module (python3-onnx)")
    # ONNX Runtime: onnxruntime-node, installed beside the test script.
    onnx_tests = os.path.join(os.path.dirname(__file__), "..", "onnx")
    config.substitutions.append(("%onnx_tests", os.path.abspath(onnx_tests)))
    if shutil.which("node") and runs(
            "node", "-e", "require(process.argv[1])",
            os.path.join(onnx_tests, "node_modules", "onnxruntime-node")):
        config.available_features.add("onnxruntime")
    else:
        missing("onnxruntime", "onnxruntime-node not in tests/onnx/node_modules")
    # matplotlib for scripts/plot-metrics.py, which runs Debian's Python.
    config.substitutions.append(("%scripts", os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))))
    if runs("/usr/bin/python3", "-c", "import matplotlib"):
        config.available_features.add("matplotlib")
    else:
        missing("matplotlib", "/usr/bin/python3 has no matplotlib (python3-matplotlib)")
    # A C compiler for the ahead-of-time library's test program.
    if shutil.which("cc"):
        config.available_features.add("cc")
    else:
        missing("cc", "no C compiler (cc)")
    # Data-parallel runs need nnc built with MPI and mpirun (Open MPI, from
    # scripts/bootstrap.sh). %mpirun may run as root (as CI does) and start
    # more ranks than there are cores.
    mpiexec = getattr(config, "nnc_mpiexec", "")
    if str(getattr(config, "nnc_have_mpi", "")).upper() in ("TRUE", "ON", "1") and os.path.exists(mpiexec):
        config.available_features.add("mpi")
        config.substitutions.append(
            ("%mpirun", "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
             + mpiexec + " --oversubscribe"))
    else:
        lit_config.note("nnc is built without MPI or mpirun is missing: the "
                        "data-parallel tests (REQUIRES: mpi) are skipped; "
                        "scripts/bootstrap.sh installs Open MPI")
    # Output directories that are read-only or full, whatever the user's
    # privileges: a tmpfs mounted in a mount namespace of the test's own
    # (unshare -m as root, unshare -rm where user namespaces are allowed).
    import tempfile
    with tempfile.TemporaryDirectory() as probe:
        for unshare in (["unshare", "-m"], ["unshare", "-rm"]):
            if shutil.which("unshare") and runs(
                    *unshare, "sh", "-c",
                    "mount -t tmpfs -o size=64k tmpfs " + probe):
                config.available_features.add("tmpfs-mount")
                config.substitutions.append(("%unshare", " ".join(unshare)))
                break
        else:
            lit_config.note("cannot mount a tmpfs in a mount namespace "
                            "(unshare -m or -rm): the tests of read-only and "
                            "full output directories are skipped "
                            "(REQUIRES: tmpfs-mount)")
    # Tabular data: the readers, and scikit-learn's CSV files
    # (scripts/fetch-data.sh sklearn), which the models find under the data
    # directory.
    if config.nnc_have_libcsv:
        config.available_features.add("csv")
    else:
        missing("csv", "nnc was built without libcsv (libcsv-dev)")
    if config.nnc_have_libzip:
        config.available_features.add("npz")
    else:
        missing("npz", "nnc was built without libzip (libzip-dev)")
    data_dir = os.environ.get("NNC_DATA_DIR") or config.nnc_data_dir
    config.substitutions.append(("%data_dir", data_dir))
    llvm_config.with_system_environment(["NNC_DATA_DIR"])
    if os.path.exists(os.path.join(data_dir, "sklearn", "iris.csv")):
        config.available_features.add("sklearn")
    else:
        lit_config.note("scikit-learn's CSV files are not in " + data_dir +
                        "/sklearn: the tests that need them are skipped "
                        "(REQUIRES: sklearn); scripts/fetch-data.sh sklearn "
                        "fetches them")
    # Tests that check nnc against NumPy: Debian's python3-numpy, for
    # Debian's Python.
    for python in ("/usr/bin/python3", sys.executable, shutil.which("python3")):
        if python and runs(python, "-c", "import numpy"):
            config.available_features.add("numpy")
            config.substitutions.append(("%numpy_python", python))
            break
    else:
        missing("numpy", "no Python with NumPy (python3-numpy)")
