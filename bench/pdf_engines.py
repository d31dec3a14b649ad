"""Choose the PDF engine by measurement (issue 18): 1,000 A6 badges with names in mixed scripts (Latin with
diacritics, Chinese, Arabic, Cyrillic, Thai, Devanagari), each with the event's title, the name large, the name in
its native script beneath, institution, country and a QR code, rendered by

- WeasyPrint through documents/engine.render_joined, in chunks of 200 badges (the app's way);
- WeasyPrint as one document of 1,000 badges (what chunking avoids: it lays out every page before writing any);
- ReportLab 5.1 with uharfbuzz 0.57: each name shaped by HarfBuzz, its glyphs drawn by id through ReportLab's
  TrueType embedding (glyphs without a character of their own get a private-use code, as ReportLab's shaper does).

    .venv/bin/python -m bench.pdf_engines [--badges 1000] [--chunk 200] [--engine NAME]

Each engine runs in a subprocess of its own, so that its peak memory (ru_maxrss) is its own. ReportLab refuses
CFF-flavoured fonts and every face of Debian's NotoSansCJK-*.ttc is CFF, so its Chinese names are drawn with
Noto Sans, which has no CJK glyph (boxes): the run shows the error and times the rest; a real ReportLab setup would
need a TrueType CJK font (Debian's fonts-wqy-zenhei, fonts-arphic-uming), which we do not install.
"""

import argparse
import io
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time

from .common import DEFAULT_DATABASE_URL, make_app

ENGINES = ("weasyprint-chunks", "weasyprint-whole", "reportlab-uharfbuzz")
EVENT = "Inaugural Ceremony of the Alliance of International Science Organizations 2027"
# (script, name as written, Latin transcription, country), drawn at random with a fixed seed
NAMES = [
    ("latin", "Zoë Ångström-Nguyễn", "", "Sweden"),
    ("latin", "José María Ñúñez Çelik", "", "Spain"),
    ("latin", "Łukasz Żółkiewski", "", "Poland"),
    ("chinese", "王小明", "Wang Xiaoming", "China"),
    ("chinese", "欧阳晓燕", "Ouyang Xiaoyan", "China"),
    ("arabic", "محمد عبد الله", "Mohammed Abdullah", "Egypt"),
    ("arabic", "فاطمة الزهراء بن علي", "Fatima Zahra Ben Ali", "Morocco"),
    ("cyrillic", "Дмитрий Иванович Соколов", "Dmitry Sokolov", "Russia"),
    ("cyrillic", "Олена Шевченко", "Olena Shevchenko", "Ukraine"),
    ("thai", "สมชาย ใจดี", "Somchai Jaidee", "Thailand"),
    ("thai", "ณัฐพงษ์ ศรีสุข", "Nattapong Srisuk", "Thailand"),
    ("devanagari", "अनिल कुमार शर्मा", "Anil Kumar Sharma", "India"),
    ("devanagari", "प्रियंका द्विवेदी", "Priyanka Dwivedi", "India"),
]
FONT_FILES = {  # fontconfig's choice for each family of static/css/documents.css, as ReportLab needs files
    "latin": ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 0),
    "cyrillic": ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 0),
    "arabic": ("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf", 0),
    "thai": ("/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf", 0),
    "devanagari": ("/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf", 0),
    "chinese": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # the SC face: CFF outlines
}


def badges(count: int) -> list[dict]:
    """`count` delegates, reproducible: a name in its script, its transcription, institution, country, code."""
    pick = random.Random(18)
    people = []
    for n in range(count):
        script, native, latin, country = pick.choice(NAMES)
        people.append({
            "script": script, "name": latin or native, "native": native if latin else "",
            "institution": f"Institute {n % 97} of Advanced Studies", "country": country, "code": f"CHK-{n:06d}",
        })  # fmt: skip
    return people


def badge_html(people: list[dict]) -> str:
    """One HTML document of A6 badges, one per page, linking the documents' font stack."""
    from markupsafe import escape

    from eventreg.documents.engine import qr_data_uri, static_url

    pages = "".join(
        f'<section><p class="event">{escape(EVENT)}</p><p class="name" dir="auto">{escape(person["name"])}</p>'
        f'<p class="native" dir="auto">{escape(person["native"])}</p><p>{escape(person["institution"])}</p>'
        f'<p>{escape(person["country"])}</p><img src="{qr_data_uri(person["code"])}"></section>'
        for person in people
    )
    stylesheet = static_url("css/documents.css")
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="{stylesheet}">'
        "<style>@page { size: A6; margin: 8mm } section { page-break-after: always } .event { font-size: 10pt }"
        ".name { font-size: 26pt; margin: 6mm 0 0 } .native { font-size: 16pt } img { width: 25mm }</style>"
        f"</head><body>{pages}</body></html>"
    )


def run_weasyprint(people: list[dict], chunk: int) -> bytes:
    """The badges through the app's engine: chunks of `chunk` badges joined, or one document when chunk is 0."""
    from eventreg.documents.engine import render_joined, render_pdf

    app = make_app(DEFAULT_DATABASE_URL)
    with app.app_context():
        if not chunk:
            return render_pdf(badge_html(people))
        return render_joined(badge_html(people[start : start + chunk]) for start in range(0, len(people), chunk))


def reportlab_fonts() -> dict:
    """A ReportLab TTFont for each script; the CJK one refused (CFF), replaced by Noto Sans, the error printed."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    fonts = {}
    for script, (path, index) in FONT_FILES.items():
        try:
            fonts[script] = TTFont(f"bench-{script}", path, subfontIndex=index)
        except TTFError as error:
            print(f"ReportLab refuses {path} face {index}: {error}", file=sys.stderr)
            fonts[script] = TTFont(f"bench-{script}", FONT_FILES["latin"][0])
        pdfmetrics.registerFont(fonts[script])
    return fonts


def draw_shaped(canvas, font, text: str, x: float, y: float, size: float) -> None:
    """`text` shaped by HarfBuzz (joined, reordered: glyphs come out in visual order) and drawn glyph by glyph."""
    import uharfbuzz

    hb_font = font.hbFont(size)
    buffer = uharfbuzz.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    uharfbuzz.shape(hb_font, buffer, {"kern": True, "liga": True})
    drawn = canvas.beginText()
    drawn.setFont(font.fontName, size)
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        gid = info.codepoint
        chars = font.face.glyphToChar.get(gid)
        code = chars[0] if chars else font.hbAddPrivate(hb_font.glyph_to_string(gid), gid, position.x_advance)
        drawn.setTextOrigin(x + font.pdfScale(position.x_offset) * size / 1000,
                            y + font.pdfScale(position.y_offset) * size / 1000)  # fmt: skip
        drawn.textOut(chr(code))
        x += font.pdfScale(position.x_advance) * size / 1000
    canvas.drawText(drawn)


def run_reportlab(people: list[dict]) -> bytes:
    """The same badges drawn by ReportLab, names shaped by uharfbuzz."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A6
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    fonts = reportlab_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A6)
    height = A6[1]
    for person in people:
        draw_shaped(canvas, fonts["latin"], EVENT[:48], 8 * mm, height - 14 * mm, 10)
        name_font = fonts["latin"] if person["native"] else fonts[person["script"]]
        draw_shaped(canvas, name_font, person["name"], 8 * mm, height - 32 * mm, 26)
        if person["native"]:
            draw_shaped(canvas, fonts[person["script"]], person["native"], 8 * mm, height - 42 * mm, 16)
        draw_shaped(canvas, fonts["latin"], person["institution"], 8 * mm, height - 52 * mm, 10)
        draw_shaped(canvas, fonts["latin"], person["country"], 8 * mm, height - 58 * mm, 10)
        qr = QrCodeWidget(person["code"], barLevel="M")
        left, bottom, right, top = qr.getBounds()
        drawing = Drawing(25 * mm, 25 * mm, transform=[25 * mm / (right - left), 0, 0, 25 * mm / (top - bottom), 0, 0])
        drawing.add(qr)
        renderPDF.draw(drawing, canvas, 8 * mm, 8 * mm)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def measure(engine: str, count: int, chunk: int) -> dict:
    """Render the badges with one engine in this process: seconds, peak memory, size and pages of the PDF."""
    from pypdf import PdfReader

    people = badges(count)
    started = time.perf_counter()
    if engine == "reportlab-uharfbuzz":
        pdf = run_reportlab(people)
    else:
        pdf = run_weasyprint(people, chunk if engine == "weasyprint-chunks" else 0)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime  # with the imports; steadier than wall time on a shared machine
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    return {
        "engine": engine,
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak_mb,
        "size_mb": len(pdf) / 2**20,
        "pages": pages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=200, help="badges per chunk for weasyprint-chunks")
    parser.add_argument("--engine", choices=ENGINES, help="measure only this engine, in this process (JSON output)")
    options = parser.parse_args()
    if options.engine:
        print(json.dumps(measure(options.engine, options.badges, options.chunk)))
        return
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{options.badges} A6 badges, mixed scripts; WeasyPrint chunks of {options.chunk}; one process per engine")
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load average {load} (other work slows every figure)")
    for engine in ENGINES:
        command = [sys.executable, "-m", "bench.pdf_engines", "--engine", engine, "--badges", str(options.badges),
                   "--chunk", str(options.chunk)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        for line in sorted(set(done.stderr.splitlines())):
            if "refuses" in line or "Error" in line:
                print(f"  {engine}: {line}")
        if done.returncode:
            print(f"{engine:20} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        load = os.getloadavg()[0]
        print(
            f"{engine:20} {result['seconds']:6.1f} s  (CPU {result['cpu']:5.1f} s)  peak {result['peak_mb']:5.0f} MB  "
            f"PDF {result['size_mb']:5.1f} MB  {result['pages']} pages  (load after: {load:.1f})"
        )


if __name__ == "__main__":
    main()
