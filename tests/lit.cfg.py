# lit configuration: .mlir files run through netc-opt and .test files that
# drive netc, both checked with FileCheck.
import os

import lit.formats

config.name = "netc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.netc_obj_root, "tests")
config.excludes = ["diagnostics", "unit", "reference", "fuzz", "CMakeLists.txt",
                   "lit.cfg.py", "lit.site.cfg.py.in"]

config.environment["PATH"] = os.pathsep.join(
    [config.netc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%examples", os.path.join(config.netc_src_root, "examples")))
