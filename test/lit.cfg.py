# -*- Python -*-
# lit configuration of the tele test suite. Tests under Integration/GPU are
# gated on the `cuda-gpu` feature, present only when nvidia-smi sees a GPU.
import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TELE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".yaml", ".json"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tele_obj_root, "test")
config.excludes = ["Inputs", "Fuzz", "CMakeLists.txt", "compare_losses.py", "README.md", "lit.cfg.py", "lit.site.cfg.py"]

# Strict FileCheck: variables captured in one CHECK-LABEL block stay there.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"

llvm_config.use_default_substitutions()
config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%tele_src", config.tele_src_root))

tool_dirs = [config.tele_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["tele-opt", "tele", "tele-run"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.tele_tools_dir, append_path=True)
# MLIR's NVVM serializer finds libdevice through these (tele falls back to
# the toolkit found at configure time; tele-opt's upstream pipeline does not).
llvm_config.with_system_environment(["CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"])

def has_cuda_gpu():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except Exception:
        return False

if has_cuda_gpu():
    config.available_features.add("cuda-gpu")

# tele-run is built only with the CUDA toolkit (headers) present.
if os.path.exists(os.path.join(config.tele_tools_dir, "tele-run")):
    config.available_features.add("tele-run")
