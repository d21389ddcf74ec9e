"""The core has no UI and no sockets: importing it never loads textual or scapy."""

import subprocess
import sys

CORE = ["events", "pcapfile", "decode", "tcpoptions", "tracker", "listeners", "pipeline", "output",
        "replay",
        "source", "timeline", "index_worker", "decode_worker"]


def test_core_imports_neither_textual_nor_scapy():
    code = (
        "import sys\n"
        + "".join(f"import handshake_viz.{m}\n" for m in CORE)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'scapy', 'rich')]\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
