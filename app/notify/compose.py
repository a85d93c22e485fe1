"""The Vietnamese text of a notification: which cycle, what to do, by when (Vietnam time)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from ..words import STAGE, TASK, vn_time
from .sender import Message

__all__ = ["compose", "message_id", "task_words"]

_FOOTER = "Thư này do hệ thống thi đua – khen thưởng gửi tự động; vui lòng không trả lời thư này."


def message_id(dedup_key: str, login: str, sender: str) -> str:
    """The Message-ID of the message of one outbox row to one person: the same every time it
    is sent (a resend after a crash is recognisably the same message)."""
    digest = hashlib.sha256(f"{dedup_key}\x00{login}".encode()).hexdigest()[:40]
    domain = sender.rpartition("@")[2].strip(" >") or "thidua.invalid"
    return f"<{digest}@{domain}>"


def task_words(action: str, units: dict[str, str] | None = None) -> str:
    name, _, unit = action.partition(":")
    return TASK.get(name, name).format(unit=(units or {}).get(unit, unit))


def compose(
    row: dict[str, Any],
    person: dict[str, Any],
    title: str,
    sender: str,
    units: dict[str, str] | None = None,
) -> Message:
    """The message of outbox `row` (kind `new_task`, `reminder` or `deadline_missed`) to
    `person`; `units` names
    the units by id."""
    p = row["payload"]
    units = units or {}
    unit = units.get(row["recipient"], row["recipient"])
    acts = [task_words(a, units) for a in p.get("actions", [])]
    stage = STAGE.get(p.get("stage", ""), p.get("stage", ""))
    deadline = datetime.fromisoformat(p["deadline"]) if p.get("deadline") else None
    lines = [f"Kính gửi {person['name']},", ""]
    if row["kind"] == "deadline_missed":
        subject = f"[Thi đua] Quá hạn: {acts[0] if acts else stage} – {title}"
        lines.append(f"{title}: giai đoạn “{stage}” đã hết hạn. {unit} chưa làm:")
        closes = p.get("stage") in ("pledge", "scoring")
        after = (
            "Giai đoạn đã kết thúc theo thời hạn; việc trên không còn thực hiện được."
            if closes
            else "Việc trên vẫn cần được thực hiện sớm nhất có thể."
        )
        lines += [f"  - {a}" for a in acts]
        lines += ["", after, "Liên hệ Cơ quan thường trực nếu cần gia hạn."]
        acts = []
    elif row["kind"] == "reminder":
        subject = f"[Thi đua] Nhắc việc: còn {p['days_before']} ngày đến hạn – {title}"
        lines.append(
            f"{title}: giai đoạn “{stage}” sẽ hết hạn sau {p['days_before']} ngày. "
            f"{unit} còn việc chưa làm:"
        )
    else:
        subject = f"[Thi đua] Việc mới: {acts[0] if acts else stage} – {title}"
        lines.append(f"{title}: giai đoạn “{stage}” đã mở. {unit} có việc cần làm:")
    lines += [f"  - {a}" for a in acts]
    lines.append("")
    if deadline is not None:
        lines.append(f"Hạn chót: {vn_time(deadline)} (giờ Việt Nam).")
    else:
        lines.append("Giai đoạn này không có hạn chót.")
    lines += ["", _FOOTER]
    return Message(
        to=person["email"],
        subject=subject,
        body="\n".join(lines) + "\n",
        message_id=message_id(row["dedup_key"], person["login"], sender),
    )
