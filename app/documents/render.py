"""A block document (app/documents/block_docs.py) laid out as .docx or PDF.

document_docx(doc) -> bytes    (python-docx: Times New Roman 13, A4, the officials edit it)
document_pdf(doc)  -> bytes    (WeasyPrint, the package's DejaVu Serif, as the minutes)
document_bytes(doc, "docx" | "pdf") -> bytes
"""

from __future__ import annotations

from io import BytesIO

from .block_docs import Document, Heading, Items, Para, Table

__all__ = ["FORMATS", "document_bytes", "document_docx", "document_html", "document_pdf"]

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
"""The formats a document is made in, with their media types."""

_FONT = "Times New Roman"  # the font of Nghị định 30/2020/NĐ-CP


def document_html(doc: Document) -> str:
    from .minutes import _env

    return _env().get_template("block_doc.html.j2").render(d=doc)


def document_pdf(doc: Document) -> bytes:
    # WeasyPrint loads pango and its fonts on import: only the PDF path pays for it.
    from weasyprint import CSS, HTML

    from .minutes import _fonts_dir

    fonts = _fonts_dir()
    pdf = HTML(string=document_html(doc), base_url=str(fonts)).write_pdf(
        stylesheets=[CSS(filename=str(fonts / "fonts.css"))]
    )
    assert pdf is not None
    return bytes(pdf)


def _no_borders(table: object) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr  # type: ignore[attr-defined]
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def document_docx(doc: Document) -> bytes:
    from docx import Document as Docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    d = Docx()
    section = d.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = d.styles["Normal"]
    normal.font.name = _FONT
    normal.font.size = Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), _FONT)
    normal.paragraph_format.space_after = Pt(3)
    d.core_properties.title = " – ".join(doc.title)
    d.core_properties.author = doc.byline or (doc.header.issuer if doc.header else "")
    d.core_properties.comments = doc.record
    if doc.record:
        foot = section.footer.paragraphs[0]
        note = foot.add_run(doc.record)
        note.font.size = Pt(7)

    def cell_text(
        cell: object,
        lines: list[tuple[str, bool, bool]],
        size: float = 12.5,
        align: int = WD_ALIGN_PARAGRAPH.CENTER,
    ) -> None:
        par = cell.paragraphs[0]  # type: ignore[attr-defined]
        par.alignment = align
        for i, (text, bold, italic) in enumerate(lines):
            run = par.add_run(text)
            run.bold, run.italic = bold, italic
            run.font.size = Pt(size)
            if i < len(lines) - 1:
                run.add_break()

    if doc.header is not None:
        h = doc.header
        t = d.add_table(rows=2, cols=2)
        _no_borders(t)
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.columns[0].width, t.columns[1].width = Mm(65), Mm(100)
        for row in t.rows:
            row.cells[0].width, row.cells[1].width = Mm(65), Mm(100)
        cell_text(
            t.cell(0, 0),
            [(h.superior, False, False), (h.issuer, True, False), ("―――――", False, False)],
            size=12.5,
        )
        cell_text(
            t.cell(0, 1),
            [(h.nation, True, False), (h.motto, True, False), ("――――――――――", False, False)],
            size=12.5,
        )
        cell_text(t.cell(1, 0), [(h.number, False, False)], size=13)
        cell_text(t.cell(1, 1), [(h.place_date, False, True)], size=13)

    title = d.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(doc.title[0])
    run.bold, run.font.size = True, Pt(14)
    if len(doc.title) > 1:
        summary = d.add_paragraph()
        summary.alignment = WD_ALIGN_PARAGRAPH.CENTER
        summary.add_run(" ".join(doc.title[1:])).bold = True
    if doc.recipient:
        rec = d.add_paragraph()
        rec.alignment = WD_ALIGN_PARAGRAPH.CENTER
        rec.add_run(doc.recipient)

    for p in doc.parts:
        match p:
            case Heading(text=text):
                par = d.add_paragraph()
                par.paragraph_format.space_before = Pt(6)
                par.add_run(text).bold = True
            case Para(text=text, bold=bold, italic=italic):
                par = d.add_paragraph()
                par.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
                par.paragraph_format.first_line_indent = Mm(10)
                r = par.add_run(text)
                r.bold, r.italic = bold, italic
            case Items(items=items, dash=dash):
                for item in items:
                    par = d.add_paragraph(f"- {item}" if dash else item)
                    par.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
                    par.paragraph_format.left_indent = Mm(10)
            case Table(columns=cols, rows=rows, numeric=numeric):
                t = d.add_table(rows=1 + len(rows), cols=len(cols))
                t.style = "Table Grid"
                for j, c in enumerate(cols):
                    cell_text(t.cell(0, j), [(c, True, False)], size=11)
                for i, row in enumerate(rows, start=1):
                    for j, c in enumerate(row):
                        align = WD_ALIGN_PARAGRAPH.RIGHT if numeric[j] else WD_ALIGN_PARAGRAPH.LEFT
                        cell_text(t.cell(i, j), [(c, False, False)], size=11, align=align)

    if doc.signature is not None:
        d.add_paragraph()
        t = d.add_table(rows=1, cols=2)
        _no_borders(t)
        to = [("Nơi nhận:", True, True), *[(r, False, False) for r in doc.recipients]]
        cell_text(t.cell(0, 0), to, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
        sig = [
            *[(line, True, False) for line in doc.signature.lines],
            ("", False, False),
            ("", False, False),
            ("", False, False),
            (doc.signature.name, True, False),
        ]
        cell_text(t.cell(0, 1), sig, size=13)
    if doc.byline:
        by = d.add_paragraph()
        by.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        by.add_run(doc.byline).bold = True
    out = BytesIO()
    d.save(out)
    return out.getvalue()


def document_bytes(doc: Document, fmt: str) -> bytes:
    """The document as `docx` or `pdf`."""
    if fmt == "docx":
        return document_docx(doc)
    if fmt == "pdf":
        return document_pdf(doc)
    raise ValueError(f"unknown format {fmt!r}: docx or pdf")
