"""Re-execute the tutorial notebooks and save them with their outputs.

    python docs/tutorials/execute.py                 # every chapter, in order
    python docs/tutorials/execute.py 03-*.ipynb      # some of them

Each notebook runs top to bottom on a Jupyter kernel started with this very Python
(``sys.executable``, so the engine it imports is the one installed here, whatever
kernels the machine has registered), in the notebook's own folder, and is written
back only if every cell ran without an error. tests/docs/test_tutorials.py runs the
same function and checks that the stored outputs are what the code prints.
Needs the test extra (nbclient, nbformat, ipykernel).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
KERNEL = "autodiff-tutorials"
CELL_TIMEOUT = 300  # seconds for one cell; a chapter takes well under 60 s in all
IMAGES = ("image/svg+xml", "image/png")
# the folder ipykernel keeps a cell's code in is named after the kernel's process id
KERNEL_PID = re.compile(r"(ipykernel_)\d+(?=[/\\])")


def notebooks() -> list[Path]:
    """The chapters, in reading order (their names start with the chapter's number)."""
    return sorted(HERE.glob("[0-9][0-9]-*.ipynb"))


def _kernel_manager(spec_dir: Path) -> KernelManager:
    """A kernel manager whose only kernel is ipykernel on this Python."""
    kernel = spec_dir / KERNEL
    kernel.mkdir()
    spec = {
        # log level ERROR: the kernel's warning about local TCP is noise in a terminal
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": "Python (autodiff tutorials)",
        "language": "python",
        # the debugger's start-up note about frozen modules is noise for a reader
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }
    (kernel / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def execute(path: str | os.PathLike[str]) -> tuple[nbformat.NotebookNode, float]:
    """Run the notebook at ``path`` top to bottom; return it with fresh outputs, and seconds.

    Raises nbclient's CellExecutionError at the first cell that raises.
    """
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as spec_dir:
        client = NotebookClient(
            nb,
            km=_kernel_manager(Path(spec_dir)),
            timeout=CELL_TIMEOUT,
            record_timing=False,  # no timestamps in the saved file: a rerun changes nothing
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [_stable(output) for output in merge_streams(cell.outputs)]
    # the saved notebook names the ordinary kernel, so it opens anywhere
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    return nb, seconds


def merge_streams(outputs: list) -> list:
    """Outputs with each run of consecutive stdout (or stderr) pieces joined into one.

    A kernel sends printed text in pieces whose boundaries depend on timing; joined, the
    same program always stores the same outputs.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def _stable(output):
    """The output without what changes from run to run of the same code.

    A display with an image loses its text/plain, Python's repr of the drawn object
    (``<... at 0x7f...>``), which no reader sees; the kernel's process id in the name of a
    cell's file (in a traceback or an error message naming the line) becomes ``<pid>``.
    """
    if output.output_type == "stream":
        output.text = KERNEL_PID.sub(r"\1<pid>", output.text)
    elif output.output_type == "error":
        output.evalue = KERNEL_PID.sub(r"\1<pid>", output.evalue)
    elif "data" in output:
        if any(kind in output.data for kind in IMAGES):
            output.data.pop("text/plain", None)
        elif "text/plain" in output.data:
            output.data["text/plain"] = KERNEL_PID.sub(r"\1<pid>", output.data["text/plain"])
    return output


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or notebooks()
    failed = 0
    for path in paths:
        try:
            nb, seconds = execute(path)
        except Exception as error:  # noqa: BLE001 - report it and go on to the next chapter
            print(f"{path.name}: FAILED, not saved\n{error}", file=sys.stderr)
            failed += 1
            continue
        nbformat.write(nb, path)
        print(f"{path.name}: {seconds:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
