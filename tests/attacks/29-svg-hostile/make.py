import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


SVGS = {
 "script.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
   '<script>alert(2)</script><script type="text/ecmascript"><![CDATA[alert(3)]]></script>'
   '<rect width="10" height="10" onclick="alert(4)" onmouseover = "alert(5)"/></svg>',
 "ns.svg": '<s:svg xmlns:s="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml" '
   'width="10" height="10"><s:script>alert(6)</s:script><h:script>alert(7)</h:script>'
   '<s:rect width="5" height="5"/></s:svg>',
 "smil.svg": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
   'width="10" height="10"><a xlink:href="javascript:alert(8)"><set attributeName="href" '
   'to="javascript:alert(9)"/><animate attributeName="xlink:href" values="javascript:alert(10)"/>'
   '<text x="1" y="8">t</text></a><a href="JavaScript:alert(11)"><rect width="3" height="3"/></a></svg>',
 "foreign.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><foreignObject '
   'width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:alert(12)">'
   '</iframe><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(13)"/></foreignObject></svg>',
 "external.svg": '<?xml-stylesheet href="https://evil.example/x.css" type="text/css"?>'
   '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
   '<style>@import url(https://evil.example/y.css); rect { fill: url(https://evil.example/f.svg#p) }</style>'
   '<use xlink:href="https://evil.example/sprite.svg#a"/><use href="//evil.example/s.svg#b"/>'
   '<image href="https://evil.example/track.png" width="1" height="1"/>'
   '<image xlink:href="file:///etc/passwd" width="1" height="1"/><rect width="5" height="5"/></svg>',
}


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    (outside / "secret.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="20"><text x="0" y="15">{c}</text></svg>')
    (outside / "secret.png").write_bytes(png(3, 3, text=c))
    img = bank / "img"
    img.mkdir()
    svgs = dict(SVGS)
    svgs["xxe.svg"] = (f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file://{outside}/secret.txt">'
        '<!ENTITY % p SYSTEM "https://evil.example/x.dtd">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="20"><text x="0" y="15">&xxe;</text></svg>')
    svgs["outside-ref.svg"] = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="400" height="20"><image href="../../outside/secret.svg" width="400" height="20"/>'
        f'<image xlink:href="{outside}/secret.png" width="3" height="3"/>'
        f'<image href="file://{outside}/secret.svg" width="400" height="20"/>'
        f'<use href="../../outside/secret.svg#x"/></svg>')
    lines = ["## SVG", ""]
    for n, name in enumerate(sorted(svgs), 1):
        (img / name).write_text(svgs[name])
        lines += [f"{n}. What does figure {name} show?", "", f"![{name}](img/{name})", "", "---", ""]
    (bank / "q.md").write_text("\n".join(lines[:-2]))
