"""The block's own documents after its conference, drafted from the cycle's events alone:

    build_document("report" | "proposal" | "news", events, stream=…, head_hash=…) -> Document

- the summary report (báo cáo tổng kết): participation, the ranking, what the scores show,
  exclusions with reasons, nominations with tallies, next year's leaders;
- the proposal to the provincial council (tờ trình) for the block's nominations;
- a news item for the province's or district's portal.

The report and the proposal are in the state format of Nghị định 30/2020/NĐ-CP: the issuing
body over the national header and motto, the number and the place-date line, the title, the
body, the signature block and the recipients. The news item has the register of a portal's
news (title, lead, body, byline). A `Document` is pure data in words and Vietnamese number
formats (app/words.py); app/documents/render.py lays it out as .docx or PDF. Officials edit the
.docx; the record is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from domain import events as ev
from domain.fold import fold_into
from domain.ranking import rank_units
from domain.state import CycleState

from ..words import EXCLUSION, VN, percent, vn_date, vn_date_long, vn_number
from .model import Minutes, build_minutes

__all__ = [
    "KINDS",
    "Document",
    "Header",
    "Heading",
    "Items",
    "Para",
    "Signature",
    "Table",
    "build_document",
]

Kind = Literal["report", "proposal", "news"]
KINDS: dict[str, str] = {
    "report": "bao-cao-tong-ket",
    "proposal": "to-trinh",
    "news": "tin-bai",
}
"""The documents by kind, with the stem of their file names."""

WEAK = ("security_order_weak",)
"""Findings that rate a unit weak in a criterion: what the scores show names them."""

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass
class Header:
    """The top of a state-format document (Nghị định 30/2020/NĐ-CP, Phụ lục I)."""

    superior: str
    """The issuing body's superior (cơ quan chủ quản), upper case."""
    issuer: str
    """The issuing body, upper case, bold."""
    number: str
    """`Số:    /BC-KTĐ`: the office fills the number when it issues the document."""
    place_date: str
    nation: str = NATION
    motto: str = MOTTO


@dataclass
class Heading:
    text: str


@dataclass
class Para:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass
class Items:
    items: list[str]
    dash: bool = True
    """Each item after a dash (`- `), as documents list; False when items carry numbers."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    """Which columns hold numbers (right-aligned)."""


Part = Heading | Para | Items | Table


@dataclass
class Signature:
    lines: list[str]
    """Authority and post, e.g. `TM. KHỐI THI ĐUA SỐ 2`, `KHỐI TRƯỞNG`."""
    name: str
    """Who signs: the unit that holds the post (the office writes the person's name)."""


@dataclass
class Document:
    kind: str
    file_stem: str
    title: list[str]
    """First line the document's kind (upper case), then its summary (trích yếu)."""
    parts: list[Part]
    header: Header | None = None
    recipient: str | None = None
    """`Kính gửi: …` of a proposal."""
    signature: Signature | None = None
    recipients: list[str] = field(default_factory=list)
    """Nơi nhận."""
    byline: str | None = None
    record: str = ""
    """Which record the draft was made from (stream, last version, last hash)."""

    def text(self) -> str:
        """Every word of the document, in reading order (for tests and plain-text use)."""
        out: list[str] = []
        if self.header is not None:
            h = self.header
            out += [h.superior, h.issuer, h.number, h.nation, h.motto, h.place_date]
        out += self.title
        if self.recipient:
            out.append(self.recipient)
        for p in self.parts:
            match p:
                case Heading(text=t) | Para(text=t):
                    out.append(t)
                case Items(items=items):
                    out += items
                case Table(columns=cols, rows=rows):
                    out.append(" | ".join(cols))
                    out += [" | ".join(r) for r in rows]
        if self.signature is not None:
            out += [*self.signature.lines, self.signature.name]
        if self.recipients:
            out += ["Nơi nhận:", *self.recipients]
        if self.byline:
            out.append(self.byline)
        return "\n".join(out)


# ---- facts read from the record ----------------------------------------------------------


@dataclass
class _Facts:
    state: CycleState
    minutes: Minutes


def _facts(events: Sequence[ev.Event], stream: str, head_version: int, head_hash: bytes) -> _Facts:
    minutes = build_minutes(events, stream=stream, head_version=head_version, head_hash=head_hash)
    state = CycleState()
    fold_into(state, list(events))
    return _Facts(state=state, minutes=minutes)


def _name(s: CycleState, unit: str | None) -> str:
    assert s.block is not None
    return s.block.name_of(unit) if unit else ""


def _count(n: int) -> str:
    """`01`, `07`, `12`: counts of units as documents write them."""
    return f"{n:02d}"


def _short(title: str, sid: str) -> str:
    """`Nội dung 3` of `Nội dung 3: Xây dựng tổ chức, …`."""
    head, sep, _ = title.partition(":")
    return head.strip() if sep else (title or sid)


def _header(s: CycleState, code: str, when: str) -> Header:
    assert s.block is not None
    province = s.block.province
    return Header(
        superior=f"UBND TỈNH {province.upper()}" if province else "",
        issuer=s.block.name.upper(),
        number=f"Số:        /{code}-KTĐ",
        place_date=f"{province + ', ' if province else ''}{when}",
    )


def _when(s: CycleState) -> tuple[str, str]:
    """(`ngày 08 tháng 3 năm 2019`, `08/3/2019`) of the record's last event, in Vietnam."""
    days = [d for d in (s.last_at.astimezone(VN).date() if s.last_at else None, s.held_on) if d]
    last = max(days) if days else None  # never before the conference it reports
    if last is None:
        return "ngày    tháng    năm    ", ""
    return vn_date_long(last), vn_date(last)


def _signature(s: CycleState) -> Signature:
    assert s.block is not None
    chair = s.chair or s.block.head
    post = "KHỐI TRƯỞNG" if chair == s.block.head else "KHỐI PHÓ"
    lines = [f"TM. {s.block.name.upper()}", post]
    return Signature(lines=lines, name=_name(s, chair))


def _record(f: _Facts) -> str:
    m = f.minutes
    return (
        f"Dự thảo lập từ nhật ký sự kiện của kỳ thi đua: luồng {m.stream}, phiên bản "
        f"{m.head_version}, mã băm cuối {m.head_hash[:16]}…"
    )


def _threshold(s: CycleState, sid: str, maximum: Decimal) -> tuple[Decimal, str]:
    """The line a section's score is judged against: the ruleset's floor for the section when
    it has one, else half the section's maximum."""
    assert s.ruleset is not None
    floor = s.ruleset.area_floor.get(sid)
    if floor is not None:
        return Decimal(floor), f"điểm sàn {vn_number(floor)} điểm"
    half = Decimal(maximum) / 2
    return half, f"{vn_number(half)} điểm, tức 50% số điểm tối đa"


def _observations(s: CycleState) -> list[str]:
    """What the scores show: the highest and lowest, the sections where units fell under the
    threshold, the units rated weak in a criterion."""
    assert s.block is not None and s.score_sheet is not None
    out: list[str] = []
    sheet = s.score_sheet
    ranked = rank_units(s.members, s.adopted, sheet.section_ids, s.tie_breaks)
    if ranked.order:
        top, low = ranked.order[0], ranked.order[-1]
        totals = [s.adopted[u].total for u in ranked.order]
        mean = sum(totals, Decimal(0)) / len(totals)
        out.append(
            f"Đơn vị đạt điểm cao nhất: {_name(s, top)} ({vn_number(s.adopted[top].total)} điểm);"
            f" thấp nhất: {_name(s, low)} ({vn_number(s.adopted[low].total)} điểm); điểm bình "
            f"quân của Khối: {vn_number(mean, 1)} điểm (thang điểm {vn_number(sheet.max_total)})."
        )
    for sec in sheet.sections:
        line, words = _threshold(s, sec.id, sec.max)
        under = [
            u
            for u in ranked.order
            if s.adopted[u].sections.get(sec.id) is not None
            and s.adopted[u].sections[sec.id] < line
        ]
        if under:
            who = ", ".join(
                f"{_name(s, u)} ({vn_number(s.adopted[u].sections[sec.id])} điểm)" for u in under
            )
            out.append(
                f"{sec.title or sec.id}: có {_count(len(under))} đơn vị đạt dưới {words}: {who}."
            )
    for finding in s.findings:
        if finding.kind in WEAK:
            out.append(f"{_name(s, finding.unit)} bị {EXCLUSION[finding.kind]}.")
    if s.not_scored:
        out.append("Đơn vị không chấm điểm: " + ", ".join(_name(s, u) for u in s.not_scored) + ".")
    return out


def _exclusions(s: CycleState) -> list[str]:
    if not s.excluded:
        return []
    refs: dict[tuple[str, str], str] = {(f.unit, f.kind): f.reference for f in s.findings}
    out = []
    for u in s.members:
        if u not in s.excluded:
            continue
        reasons = []
        for code in s.excluded[u]:
            ref = refs.get((u, code))
            words = EXCLUSION.get(code, code)
            same = ref is None or ref.strip().lower() == words.lower()
            reasons.append(words + ("" if same else f" ({ref})"))
        out.append(f"{_name(s, u)}: {'; '.join(reasons)}.")
    return out


def _nomination_line(s: CycleState, n: ev.Nomination) -> str:
    how = (
        f"{n.approvals}/{n.voters} phiếu đồng ý ({percent(n.approvals or 0, n.voters or 0)})"
        if n.decided_by == "vote"
        else "do Khối trưởng, Khối phó quyết định"
    )
    total = vn_number(s.total_of(n.unit))
    return f"{_name(s, n.unit)} ({total} điểm): đề nghị tặng {n.title}; {how}."


def _participation(s: CycleState, f: _Facts) -> list[Part]:
    assert s.block is not None
    r = f.minutes.review
    if r is None:
        return [Para("Khối chưa tổ chức hội nghị tổng kết.")]
    n = len(s.block.members)
    parts: list[Part] = [
        Para(
            f"{r.held_on_long[0].upper() + r.held_on_long[1:]}, {s.block.name} tổ chức hội nghị "
            f"tổng kết công tác thi đua, khen thưởng năm {s.year}, do {r.chair} ({r.chair_role}) chủ "
            f"trì. Dự hội nghị có {len(r.present)}/{n} đơn vị thành viên."
        )
    ]
    parts.append(Para("Đơn vị dự hội nghị:"))
    parts.append(Items(list(r.present)))
    if r.absent:
        parts.append(Para(f"Vắng {_count(len(r.absent))} đơn vị:"))
        parts.append(Items([f"{u} ({why})" for u, why in r.absent]))
    else:
        parts.append(Para("Không có đơn vị vắng mặt."))
    return parts


def _score_table(s: CycleState) -> Table:
    assert s.score_sheet is not None
    sheet = s.score_sheet
    ranked = rank_units(s.members, s.adopted, sheet.section_ids, s.tie_breaks)
    cols = [
        "Hạng",
        "Đơn vị",
        *[f"{_short(sec.title, sec.id)} ({vn_number(sec.max)})" for sec in sheet.sections],
        f"Tổng điểm ({vn_number(sheet.max_total)})",
    ]
    rows = [
        [
            str(ranked.rank[u]),
            _name(s, u),
            *[vn_number(s.adopted[u].sections.get(sid)) for sid in sheet.section_ids],
            vn_number(s.adopted[u].total),
        ]
        for u in ranked.order
    ]
    rows += [
        ["", _name(s, u), *["" for _ in sheet.section_ids], "không chấm điểm"]
        for u in ranked.unscored
    ]
    return Table(cols, rows, [True, False, *[True for _ in sheet.section_ids], True])


def _leaders(s: CycleState) -> str:
    nxt = (s.year or 0) + 1
    if s.next_head is None or s.next_deputy is None:
        return f"Khối trưởng, Khối phó năm {nxt} chưa được xác định."
    return (
        f"Khối trưởng năm {nxt}: {_name(s, s.next_head)}; Khối phó năm {nxt}: "
        f"{_name(s, s.next_deputy)}."
    )


def _report(f: _Facts) -> Document:
    s = f.state
    assert s.block is not None and s.score_sheet is not None
    long, _ = _when(s)
    parts: list[Part] = [Heading("I. TỔ CHỨC HỘI NGHỊ TỔNG KẾT"), *_participation(s, f)]
    parts.append(Heading("II. KẾT QUẢ CHẤM ĐIỂM THI ĐUA"))
    if s.adopted:
        parts.append(
            Para(
                f"Hội nghị thông qua kết quả chấm điểm của {_count(len(s.adopted))} đơn vị (thang "
                f"điểm {vn_number(s.score_sheet.max_total)}), xếp hạng như sau:"
            )
        )
        parts.append(_score_table(s))
        parts.append(Para("Kết quả chấm điểm cho thấy:"))
        parts.append(Items(_observations(s)))
    else:
        parts.append(Para("Chưa có kết quả chấm điểm được hội nghị thông qua."))
    parts.append(Heading("III. ĐƠN VỊ KHÔNG ĐỦ ĐIỀU KIỆN SUY TÔN"))
    excl = _exclusions(s)
    if s.excluded is None:
        parts.append(Para("Chưa xét điều kiện suy tôn."))
    elif excl:
        parts.append(Para(f"Có {_count(len(excl))} đơn vị không đủ điều kiện suy tôn:"))
        parts.append(Items(excl))
    else:
        parts.append(Para("Các đơn vị đều đủ điều kiện suy tôn."))
    parts.append(Heading("IV. KẾT QUẢ BÌNH XÉT, SUY TÔN"))
    vote = f.minutes.vote
    if s.nominations:
        if vote is not None:
            parts.append(Para(vote.threshold_rule))
        parts.append(Para("Hội nghị thống nhất đề nghị khen thưởng:"))
        parts.append(
            Items([f"{n.place}. {_nomination_line(s, n)}" for n in s.nominations], dash=False)
        )
    else:
        parts.append(Para("Chưa có đơn vị được đề nghị khen thưởng."))
    parts.append(Heading(f"V. KHỐI TRƯỞNG, KHỐI PHÓ NĂM {(s.year or 0) + 1}"))
    el = f.minutes.election
    if el is not None and el.succession:
        parts.append(Para(el.succession))
    parts.append(Para(_leaders(s)))
    if s.stage == "cancelled":
        parts.insert(0, Para(f"Kỳ thi đua đã hủy. Lý do: {s.cancel_reason}.", italic=True))
    return Document(
        kind="report",
        file_stem=KINDS["report"],
        header=_header(s, "BC", long),
        title=[
            "BÁO CÁO",
            f"Tổng kết công tác thi đua, khen thưởng năm {s.year} của {s.block.name}",
        ],
        parts=parts,
        signature=_signature(s),
        recipients=[
            "- Ban Thi đua – Khen thưởng tỉnh;",
            "- Các đơn vị thành viên Khối;",
            "- Lưu: VT.",
        ],
        record=_record(f),
    )


def _proposal(f: _Facts) -> Document:
    s = f.state
    assert s.block is not None
    long, _ = _when(s)
    province = s.block.province
    r = f.minutes.review
    titles = sorted(
        {n.title for n in s.nominations}, key=lambda t: [n.title for n in s.nominations].index(t)
    )
    parts: list[Part] = [
        Para("Căn cứ Luật Thi đua, khen thưởng và các văn bản hướng dẫn thi hành;"),
        Para(
            f"Căn cứ quy chế hoạt động và kết quả hội nghị tổng kết công tác thi đua, khen "
            f"thưởng năm {s.year} của {s.block.name}"
            + (f" ngày {r.held_on}" if r is not None else "")
            + ";"
        ),
    ]
    if s.nominations:
        voters = s.nominations[0].voters if s.nominations[0].decided_by == "vote" else None
        parts.append(
            Para(
                f"{s.block.name} kính trình Hội đồng Thi đua – Khen thưởng tỉnh"
                f"{' ' + province if province else ''} xem xét, đề nghị Chủ tịch UBND tỉnh tặng "
                f"danh hiệu, hình thức khen thưởng cho {_count(len(s.nominations))} đơn vị có thành "
                f"tích xuất sắc năm {s.year}"
                + (
                    f", được hội nghị bỏ phiếu kín với {voters} đơn vị tham gia bỏ phiếu"
                    if voters
                    else ""
                )
                + ", cụ thể:"
            )
        )
        rows = [
            [
                str(n.place),
                _name(s, n.unit),
                vn_number(s.total_of(n.unit)),
                f"{n.approvals}/{n.voters}" if n.decided_by == "vote" else "Khối trưởng, Khối phó",
                n.title,
            ]
            for n in s.nominations
        ]
        parts.append(
            Table(
                ["TT", "Đơn vị", "Tổng điểm", "Số phiếu đồng ý", "Hình thức đề nghị"],
                rows,
                [True, False, True, True, False],
            )
        )
        parts.append(
            Para(
                f"(Kèm theo biên bản hội nghị tổng kết và kết quả chấm điểm của {s.block.name}.)",
                italic=True,
            )
        )
        parts.append(
            Para(
                f"{s.block.name} kính trình Hội đồng Thi đua – Khen thưởng tỉnh xem "
                f"xét, quyết định./."
            )
        )
    else:
        parts.append(
            Para(f"Năm {s.year}, {s.block.name} không có đơn vị được đề nghị khen thưởng./.")
        )
    summary = " và ".join(titles) if titles else "khen thưởng"
    return Document(
        kind="proposal",
        file_stem=KINDS["proposal"],
        header=_header(s, "TTr", long),
        title=["TỜ TRÌNH", f"Về việc đề nghị tặng {summary} năm {s.year}"],
        recipient=f"Kính gửi: Hội đồng Thi đua – Khen thưởng tỉnh"
        f"{' ' + province if province else ''}.",
        parts=parts,
        signature=_signature(s),
        recipients=["- Như trên;", "- Ban Thi đua – Khen thưởng tỉnh;", "- Lưu: VT."],
        record=_record(f),
    )


def _news(f: _Facts) -> Document:
    s = f.state
    assert s.block is not None
    r = f.minutes.review
    n_members = len(s.block.members)
    lead = (
        f"{'Ngày ' + r.held_on + ', ' if r else ''}{s.block.name}"
        f"{' tỉnh ' + s.block.province if s.block.province else ''} tổ chức hội nghị tổng kết "
        f"công tác thi đua, khen thưởng năm {s.year} và triển khai nhiệm vụ năm {(s.year or 0) + 1}."
    )
    parts: list[Part] = [Para(lead, bold=True)]
    if r is not None:
        parts.append(
            Para(
                f"Hội nghị do {r.chair}, {r.chair_role} năm {s.year}, chủ trì, với sự tham dự "
                f"của {len(r.present)}/{n_members} đơn vị thành viên"
                + (
                    f"; vắng {', '.join(u for u, _ in r.absent)} ({r.absent[0][1].split(';')[0]})"
                    if len(r.absent) == 1
                    else f"; vắng {len(r.absent)} đơn vị"
                    if r.absent
                    else ""
                )
                + "."
            )
        )
    if s.adopted:
        ranked = rank_units(
            s.members, s.adopted, s.score_sheet.section_ids if s.score_sheet else [], s.tie_breaks
        )
        top = ", ".join(
            f"{_name(s, u)} ({vn_number(s.adopted[u].total)} điểm)" for u in ranked.order[:3]
        )
        parts.append(
            Para(
                f"Năm {s.year}, các đơn vị trong Khối đã thực hiện tốt nhiệm vụ chính trị, chuyên môn "
                f"được giao và phong trào thi đua. Kết quả chấm điểm, dẫn đầu là: {top}."
            )
        )
        weak = _observations(s)[1:]
        if weak:
            parts.append(
                Para(
                    "Bên cạnh đó, còn một số hạn chế: "
                    + " ".join(w[0].lower() + w[1:] if w[:9] == "Nội dung " else w for w in weak)
                )
            )
    excl = _exclusions(s)
    if excl:
        parts.append(Para(f"Có {len(excl)} đơn vị không đủ điều kiện suy tôn: " + " ".join(excl)))
    if s.nominations:
        parts.append(
            Para(
                (
                    "Qua bỏ phiếu kín, hội nghị thống nhất đề nghị: "
                    if all(n.decided_by == "vote" for n in s.nominations)
                    else "Hội nghị thống nhất đề nghị: "
                )
                + " ".join(f"{_nomination_line(s, n)}" for n in s.nominations)
            )
        )
    parts.append(Para(f"Hội nghị đã thống nhất: {_leaders(s)}"))
    return Document(
        kind="news",
        file_stem=KINDS["news"],
        title=[f"{s.block.name} tổng kết công tác thi đua, khen thưởng năm {s.year}"],
        parts=parts,
        byline=s.block.name,
        record=_record(f),
    )


def build_document(
    kind: str, events: Sequence[ev.Event], *, stream: str, head_version: int, head_hash: bytes
) -> Document:
    """The document of `kind` (report, proposal, news) of the cycle whose events are given."""
    if kind not in KINDS:
        raise ValueError(f"unknown document {kind!r}: one of {', '.join(KINDS)}")
    f = _facts(events, stream, head_version, head_hash)
    if f.state.block is None:
        raise ValueError("no cycle in these events")
    return {"report": _report, "proposal": _proposal, "news": _news}[kind](f)
