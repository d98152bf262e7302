"""Install hints name the package as a wheel user installs it, not a source checkout."""

import subprocess
import sys

CODE = """
import sys
sys.modules["numpy"] = None  # as if numpy were not installed
try:
    import autodiff.compiler.numpy_backend
except ImportError as error:
    print(error)
"""


def test_the_numpy_backend_hint_is_pip_install_the_extra():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert done.stdout.strip() == (
        'backend="numpy" needs numpy: pip install "autodiff-scalar[fast]" (or use backend="python")'
    )


def test_the_plot_hint_is_pip_install_the_extra():
    from nn.plot import INSTALL_HINT

    assert INSTALL_HINT.endswith('pip install "autodiff-scalar[plot]"')
