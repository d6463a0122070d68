import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401

import http.server  # noqa: E402
import threading  # noqa: E402


def make(bank: Path, outside: Path) -> None:
    log = outside / "requests.log"

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(log, "a") as f:
                f.write(self.path + "\n")
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(png(2, 2))

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Timer(300, srv.shutdown).start()
    u = f"http://127.0.0.1:{srv.server_address[1]}"
    img = bank / "img"
    img.mkdir()
    (img / "r.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                               f'width="10" height="10"><image href="{u}/svg-image.png" width="5" height="5"/>'
                               f'<image xlink:href="{u}/svg-xlink.png" width="5" height="5"/></svg>')
    (bank / "q.md").write_text(
        f"## Remote\n\n1. What does ![r]({u}/md-image.png) show?\n\n---\n\n"
        f"2. What does <img src=\"{u}/html-image.png\"> show?\n\n---\n\n"
        f"3. What does ![s](img/r.svg) show?\n\n---\n\n"
        f"4. What is $\\includegraphics{{{u}/tex.png}}$ and #image(\"{u}/typst.png\") and [a link]({u}/link)?\n\n---\n\n"
        f"5. A figure table?\n\n<table><tr><td><img src=\"{u}/table.png\"></td></tr><tr><td>Figure 1: remote</td></tr></table>\n")
