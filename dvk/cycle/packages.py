"""Packages between ledgers (gói hồ sơ .dvkpkg): a lower organisation that keeps its own ledger sends
its year — registrations, reports, confirmations, the decision and the entries it recognised — as one
zip of JSON parts, each with its SHA-256 in `manifest.json`, with the sender ledger's last history hash.
The upper ledger receives it all or nothing, under the unit whose code is the sender's, idempotently.

A package is read with bounded sizes before anything is decompressed in full; the names inside the zip
are only looked up in a fixed list, never used as paths.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dvk.errors import InvalidInput
from dvk.ledger.history import table
from dvk.cycle.common import today
from dvk.text.safety import MAX_LEN

FORMAT = "dvk-package"
VERSION = 1
MANIFEST = "manifest.json"
PARTS = ("registrations.json", "reports.json", "confirmations.json", "decision.json", "forwarded.json",
         "documents.json")
MAX_FILE = 64 * 1024 * 1024  # the package file
MAX_PART = 32 * 1024 * 1024  # one part, decompressed
MAX_TOTAL = 96 * 1024 * 1024  # every part, decompressed
MAX_RATIO = 200  # decompressed / compressed, for a part over 1 MB (a zip bomb)


def _json(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1, default=_json).encode("utf-8")


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------- writing

def build_parts(conn, year: int) -> tuple[dict, dict[str, bytes]]:
    """(manifest, parts) of the year of the organisation the connection works for."""
    from dvk.cycle.config import get_setting
    from dvk.cycle.forward import decision_text
    from dvk.cycle.orgs import current, get_org
    from dvk.cycle.year import load_year

    org = get_org(conn, current(conn))
    yd = load_year(conn, year)
    dec = yd.decision
    recognised = [] if dec is None or dec.get("kind") == "none" else [
        eid for eid, o in yd.outcomes.items() if o["recognized"]]
    dec_text = decision_text(conn, org["code"], dec) if recognised else None
    forwarded = []
    for eid in recognised:
        e = yd._index[eid]
        forwarded.append({"entry": _entry(e), "report": _strip(yd.reports.get(eid)),
                          "confirmation": _strip(yd.confirmations.get(eid)), "decision": dec_text,
                          "score": yd.outcomes[eid]["score"]})
    dt_ = table("document")
    docs = [{"name": r.name, "kind": r.kind, "sha256": r.sha256} for r in conn.execute(
        select(dt_.c.name, dt_.c.kind, dt_.c.sha256).where(dt_.c.org_code == org["code"], dt_.c.year == year)
        .order_by(dt_.c.name))]
    parts = {
        "registrations.json": _dump([_entry(e) for e in yd.entries]),
        "reports.json": _dump([_strip(r) for r in yd.reports.values()]),
        "confirmations.json": _dump([_strip(c) for c in yd.confirmations.values()]),
        "decision.json": _dump(None if dec is None else {
            "number": dec["number"], "decided_on": dec["decided_on"], "kind": dec.get("kind"), "title": dec_text,
            "outcomes": [{"entry": k, "recognized": bool(o["recognized"]), "score": o["score"]}
                         for k, o in sorted(yd.outcomes.items())]}),
        "forwarded.json": _dump(forwarded),
        "documents.json": _dump(docs),
    }
    ht = table("history")
    last = conn.execute(select(ht.c.hash).order_by(ht.c.id.desc()).limit(1)).scalar() or ""
    manifest = {"format": FORMAT, "version": VERSION, "org": org["code"], "org_name": org["name"],
                "level": org["level"], "year": year, "ledger_id": get_setting(conn, "ledger_id") or "",
                "last_history_hash": last, "entries": len(forwarded),
                "parts": {name: _sha(data) for name, data in parts.items()}}
    return manifest, parts


def _entry(e: dict) -> dict:
    return {k: e.get(k) for k in ("id", "year", "unit_code", "title", "kind", "subject", "person", "position",
                                  "field", "registered_on", "late", "sudden", "note")}


def _strip(r: dict | None) -> dict | None:
    if r is None:
        return None
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in r.items()}


def write_package(led, year: int, out: Path, *, force: bool = False) -> dict:
    out = Path(out)
    if out.exists() and not force:
        raise InvalidInput(f"Tệp “{out}” đã có; dùng --force để ghi đè.")
    if out.exists() and not out.is_file():
        raise InvalidInput(f"“{out}” không phải một tệp thường.")
    if not out.parent.is_dir():
        raise InvalidInput(f"Thư mục “{out.parent}” không tồn tại.")
    with led.read() as conn:
        manifest, parts = build_parts(conn, year)
    mbytes = _dump(manifest)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, mbytes)
        for name, data in parts.items():
            zf.writestr(name, data)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"Không ghi được tệp “{out}”: {exc.strerror or exc}.") from None
    return {"org": manifest["org"], "entries": manifest["entries"], "sha256": _sha(mbytes)}


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class Package:
    path: str
    sha256: str  # of the manifest, which holds every part's SHA-256
    manifest: dict
    forwarded: list


def read_package(path: Path) -> Package:
    """Read and check a package (sizes bounded first, every part's SHA-256); InvalidInput naming the
    part that does not match."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise InvalidInput(f"Không có tệp gói hồ sơ “{name}”.")
    if not p.is_file():
        raise InvalidInput(f"“{name}” không phải một tệp thường.")
    if p.stat().st_size > MAX_FILE:
        raise InvalidInput(f"Tệp gói hồ sơ “{name}” quá lớn ({p.stat().st_size} byte, tối đa {MAX_FILE}).")
    try:
        zf = zipfile.ZipFile(io.BytesIO(p.read_bytes()))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(f"Tệp “{name}” không phải gói hồ sơ dvk (không đọc được dạng zip).") from None
    with zf:
        infos = zf.infolist()
        allowed = {MANIFEST, *PARTS}
        odd = [i.filename for i in infos if i.filename not in allowed]
        if odd or len(infos) > len(allowed) or len({i.filename for i in infos}) != len(infos):
            raise InvalidInput(f"Gói hồ sơ “{name}” có phần lạ hoặc trùng tên “{(odd or ['?'])[0][:80]}”; không nhận.")
        total = 0
        data: dict[str, bytes] = {}
        for i in infos:
            if i.file_size > MAX_PART or (i.file_size > 1 << 20 and i.file_size > MAX_RATIO * max(i.compress_size, 1)):
                raise InvalidInput(f"Phần “{i.filename}” của gói “{name}” quá lớn khi giải nén ({i.file_size} byte); "
                                   "không nhận.")
            total += i.file_size
            if total > MAX_TOTAL:
                raise InvalidInput(f"Gói hồ sơ “{name}” quá lớn khi giải nén; không nhận.")
            try:
                with zf.open(i) as f:
                    b = f.read(MAX_PART + 1)  # the header may lie: never more than the bound
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
                raise InvalidInput(f"Phần “{i.filename}” của gói “{name}” bị hỏng; không nhận.") from None
            if len(b) > MAX_PART:
                raise InvalidInput(f"Phần “{i.filename}” của gói “{name}” quá lớn khi giải nén; không nhận.")
            data[i.filename] = b
    if MANIFEST not in data:
        raise InvalidInput(f"Gói hồ sơ “{name}” thiếu phần “{MANIFEST}”; không nhận.")
    try:
        manifest = json.loads(data[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(f"Phần “{MANIFEST}” của gói “{name}” không phải JSON hợp lệ; không nhận.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise InvalidInput(f"Tệp “{name}” không phải gói hồ sơ dvk phiên bản {VERSION}; không nhận.")
    hashes = manifest.get("parts")
    if not isinstance(hashes, dict) or set(hashes) != set(PARTS):
        raise InvalidInput(f"Phần “{MANIFEST}” của gói “{name}” không liệt kê đủ các phần; không nhận.")
    for part in PARTS:
        if part not in data:
            raise InvalidInput(f"Gói hồ sơ “{name}” thiếu phần “{part}”; không nhận.")
        if _sha(data[part]) != hashes[part]:
            raise InvalidInput(f"Gói hồ sơ “{name}” đã bị sửa: phần “{part}” không khớp mã SHA-256 ghi trong "
                               f"“{MANIFEST}”; không nhận.")
    for key, kind in (("org", str), ("year", int), ("ledger_id", str), ("last_history_hash", str)):
        if not isinstance(manifest.get(key), kind):
            raise InvalidInput(f"Phần “{MANIFEST}” của gói “{name}” thiếu hoặc sai “{key}”; không nhận.")
    try:
        forwarded = json.loads(data["forwarded.json"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(f"Phần “forwarded.json” của gói “{name}” không phải JSON hợp lệ; không nhận.") from None
    if not isinstance(forwarded, list) or not all(
            isinstance(f, dict) and isinstance(f.get("entry"), dict) and isinstance(f["entry"].get("id"), str)
            and isinstance(f["entry"].get("title"), str) for f in forwarded):
        raise InvalidInput(f"Phần “forwarded.json” của gói “{name}” không đúng dạng; không nhận.")
    return Package(name, _sha(data[MANIFEST]), manifest, forwarded)


# ---------------------------------------------------------------- receiving

def receive(led, pkg: Package, *, year: int | None, dry_run: bool, update: bool, user: str, command: str) -> dict:
    """File the package's recognised entries as entries of the receiving organisation's year, under
    the unit whose code is the sender's: all or nothing; the same package again changes nothing."""
    from dvk.cycle.common import check_year
    from dvk.cycle.orgs import current

    m = pkg.manifest
    year = check_year(year if year is not None else m["year"])
    with led.read() as conn:
        res = _plan(conn, pkg, year)
    res["org"] = res.get("org") or ""
    if res["unchanged"] or dry_run or (res["conflicts"] and not update) or not (res["added"] or res["updated"]):
        if res["conflicts"] and not update and not dry_run:
            raise InvalidInput(f"Gói {pkg.sha256[:16]}… khác gói đã nhận trước từ {m['org']} ở "
                               f"{len(res['conflicts'])} mô hình, điển hình; sổ không thay đổi. Dùng --update để "
                               "cập nhật theo gói mới.", details=[f"{c['from_entry']}: {c['reason']}"
                                                                     for c in res["conflicts"]])
        return res
    with led.write(user=user, command=command,
                   summary=f"Nhận gói hồ sơ {pkg.sha256} của {m['org']} năm {m['year']}") as tx:
        res = _plan(tx.conn, pkg, year)  # again under the lock
        if res["unchanged"]:
            return res
        _apply(tx, pkg, year, res, update=update)
        tx.insert("package", {"sha256": pkg.sha256, "org_code": current(tx.conn), "from_org": m["org"],
                              "from_ledger": m["ledger_id"], "year": year,
                              "sender_last_hash": m["last_history_hash"], "received_on": today(),
                              "entries": len(pkg.forwarded)})
    return res


def _digest(f: dict) -> str:
    return _sha(_dump(f))


def _plan(conn, pkg: Package, year: int) -> dict:
    from dvk.cycle.orgs import current

    m = pkg.manifest
    org = current(conn)
    res: dict[str, Any] = {"sha256": pkg.sha256, "org": org, "from_org": m["org"], "year": year,
                           "added": [], "updated": [], "conflicts": [], "unchanged": False, "same": 0}
    pt = table("package")
    if conn.execute(select(pt.c.sha256).where(pt.c.sha256 == pkg.sha256)).first() is not None:
        res["unchanged"] = True
        return res
    ut = table("unit")
    if conn.execute(select(ut.c.code).where(ut.c.code == m["org"], ut.c.org_code == org)).first() is None:
        raise InvalidInput(f"Tổ chức “{org}” không có đơn vị mã “{m['org']}” (mã của tổ chức gửi gói); hãy thêm "
                           f"đơn vị đó trước (dvk units add {m['org']} …), sổ không thay đổi.")
    _check_entries(conn, pkg, year)
    ft = table("forward")
    known = {r["from_entry"]: dict(r) for r in conn.execute(select(ft).where(ft.c.from_ledger == m["ledger_id"]))
             .mappings()}  # what this sender's earlier packages brought, in one query
    for f in pkg.forwarded:
        e = f["entry"]
        old = known.get(e["id"])
        item = {"from_entry": e["id"], "title": e["title"]}
        if old is None:
            res["added"].append(item)
        elif old["data_sha256"] == _digest(f):
            res["same"] += 1
        else:
            res["conflicts"].append({**item, "id": old["entry_id"],
                                     "reason": f"khác với lần gửi trước (đã nhận thành mã {old['entry_id']})"})
            res["updated"].append({**item, "id": old["entry_id"]})
    return res


def _apply(tx, pkg: Package, year: int, res: dict, *, update: bool) -> None:
    from dvk.cycle.decisions import ensure_unlocked
    from dvk.cycle.forward import add_forwarded_many
    from dvk.cycle.orgs import current

    m = pkg.manifest
    org = current(tx.conn)
    ensure_unlocked(tx.conn, year, f"danh sách đăng ký năm {year}")
    by_id = {f["entry"]["id"]: f for f in pkg.forwarded}
    items = []
    for item in res["added"]:
        f = by_id[item["from_entry"]]
        items.append(dict(e=_typed_entry(f["entry"]), report=_typed(f.get("report"), "report"),
                          confirmation=_typed(f.get("confirmation"), "confirmation"),
                          from_decision=str(f.get("decision") or "")[:300],
                          from_score=f.get("score") if isinstance(f.get("score"), (int, float)) else None,
                          from_ledger=m["ledger_id"], package=pkg.sha256, data_sha256=_digest(f)))
    for item, row in zip(res["added"], add_forwarded_many(tx, year, org, m["org"], items)):
        item["id"] = row["id"]
    if not update:
        res["updated"] = []
        return
    for u in res["updated"]:
        f = by_id[u["from_entry"]]
        e = _typed_entry(f["entry"])
        note = f"Đề nghị từ {m['org']}: mã {e['id']}, {str(f.get('decision') or '')[:300]}"
        tx.update("entry", {"id": u["id"]}, {**{k: e[k] for k in ("title", "kind", "subject", "person", "position",
                                                                  "field")}, "note": note[:1000]})
        for name in ("report", "confirmation"):
            row = _typed(f.get(name), name)
            tx.delete(name, {"entry_id": u["id"]})
            if row is not None:
                tx.insert(name, {**row, "entry_id": u["id"]})
        tx.update("forward", {"entry_id": u["id"]}, {"package": pkg.sha256, "data_sha256": _digest(f),
                                                      "from_decision": str(f.get("decision") or "")[:300]})
    res["conflicts"] = []


def _typed_entry(e: dict) -> dict:
    out = {k: e.get(k) for k in ("id", "title", "kind", "subject", "person", "position", "field", "sudden")}
    if not isinstance(out["field"], int) or out["kind"] not in ("model", "exemplar") \
            or out["subject"] not in ("collective", "individual"):
        raise InvalidInput(f"Mô hình “{str(e.get('id'))[:40]}” trong gói không đúng dạng (loại, đối tượng, lĩnh vực).")
    try:
        out["registered_on"] = dt.date.fromisoformat(e["registered_on"]) if e.get("registered_on") else None
    except (TypeError, ValueError):
        out["registered_on"] = None
    return out


def _typed(r: dict | None, name: str) -> dict | None:
    if not isinstance(r, dict):
        return None
    cols = table(name).c
    out = {}
    for c in cols:
        if c.name == "entry_id":
            continue
        v = r.get(c.name)
        if v is not None and c.type.python_type is dt.date:
            try:
                v = dt.date.fromisoformat(v)
            except (TypeError, ValueError):
                v = None
        out[c.name] = v
    if name == "confirmation" and not (out.get("committee") and out.get("confirmed_by")):
        return None
    return out


_ASPECT_KEYS = ("approach", "experience", "spread", "effectiveness", "sustainability")


def _check_entries(conn, pkg: Package, year: int) -> None:
    """Every entry the package forwards, checked as a registration of the receiving year (dvk.rules:
    fields of its criteria, kinds, texts) and its report and confirmation texts: every problem named
    with the entry's id in the package, before anything is written."""
    from dvk import rules
    from dvk.cycle.config import criteria_for
    from dvk.cycle.common import text_field

    m = pkg.manifest
    problems: list[str] = []
    crits: dict[int, Any] = {}

    def crit_of(y: int):
        if y not in crits:
            crits[y] = criteria_for(conn, y)
        return crits[y]

    units = rules.Units([m["org"]])
    for f in pkg.forwarded:
        e = f["entry"]
        eid = str(e.get("id"))[:40]
        try:
            on = dt.date.fromisoformat(e["registered_on"]) if e.get("registered_on") else None
        except (TypeError, ValueError):
            problems.append(f"{eid}: ngày đăng ký “{str(e.get('registered_on'))[:40]}” không hợp lệ.")
            continue
        _row, issues = rules.registration(year=year, unit=m["org"], title=e.get("title"), kind=e.get("kind"),
                                          subject=e.get("subject"), person=e.get("person"),
                                          position=e.get("position"), field=e.get("field"), registered_on=on,
                                          sudden=bool(e.get("sudden")), note=None, units=units,
                                          crit_of=crit_of, today=today())
        problems += [f"{eid}: {i.said or i.reason}." for i in issues]
        texts = [(f.get("report"), _ASPECT_KEYS, "aspect"),
                 (f.get("confirmation"), ("committee", "confirmed_by", "comment", "reason"), None)]
        for row, keys, limit in texts:
            if row is None:
                continue
            if not isinstance(row, dict):
                problems.append(f"{eid}: báo cáo hoặc xác nhận không đúng dạng.")
                continue
            for k in keys:
                v = row.get(k)
                if v is None:
                    continue
                try:
                    text_field(v if isinstance(v, str) else str(v), k, max_len=MAX_LEN[limit or k],
                               multiline=True)
                except InvalidInput as exc:
                    problems.append(f"{eid}: {exc.message}")
    if problems:
        raise InvalidInput(f"Gói hồ sơ “{pkg.path}” có {len(problems)} lỗi ở các mô hình gửi lên; sổ không thay đổi.",
                           details=problems[:50])
