"""Follow-up "login" time with 100,000 cases divided by the time with 10 cases.

Not a test. Run from the repository root:

    .venv/bin/python bench/receipt_lookup.py [--cases 100000] [--small 10] [--rounds 15]

Two installations in one process, same default Argon2id parameters (64 MiB, t=3, p=4):
a *small* one holding ``--small`` cases and a *big* one holding ``--cases``. In each, a
few cases are real submissions through the domain layer (``submit_from_server``, so
their receipts, lookup keys and key wraps are genuine); the rest are bulk-inserted
``cases`` rows with random 32-byte lookup keys and a case-key wrap each
(see ``bench/_common.py``). A lookup is one call of
``app.cases.followup.open_case_with_receipt`` (parse, one Argon2id run, the indexed
query on ``cases.receipt_lookup_key`` joined with ``case_keys``, unwrap of the case key
with the reporter identity), on a fresh read session, timed with ``perf_counter``.
Lookups alternate between the two installations (the order flips every round) so that
drift of the machine is billed to both equally. The figure is the ratio of the medians.

The query alone (without the Argon2id run) is timed too, to show what the case count
actually changes.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Installation,
    add_key_only_reviewer,
    bench_line,
    installation_in_tempdir,
    machine_description,
    median,
    seed_cases,
)
from sqlalchemy import func, select

from app.cases.followup import open_case_with_receipt
from app.cases.submission import (
    CaseChoices,
    ReceiptSettings,
    ServerCaseKeys,
    submit_from_server,
)
from app.models import Case, CaseKey
from app.models.vocabulary import KeyKind
from app.storage import BlobStore
from config import load_secrets
from crypto import derive_receipt_keys, parse_receipt

REAL_CASES = 3
TARGET = 1.1


def receipts_of(inst: Installation) -> ReceiptSettings:
    salt = load_secrets(inst.settings.secrets_file).receipt_salt
    return ReceiptSettings.from_config(salt, inst.settings.receipt_kdf)


def submit_real(inst: Installation, n: int) -> list[str]:
    receipts = receipts_of(inst)
    out = []
    for i in range(n):
        with inst.database.sessionmaker() as db:
            receipt, _ = submit_from_server(
                db,
                BlobStore(inst.settings.blob_path),
                receipts,
                keys=ServerCaseKeys(),
                choices=CaseChoices("corruption", "health"),
                answers={
                    "category": "corruption",
                    "summary": f"Tóm tắt {i}",
                    "details": "Chi tiết",
                },
                attachments=[],
                deadlines=inst.settings.deadlines,
            )
        out.append(receipt)
    return out


def count_cases(inst: Installation) -> int:
    with inst.database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def timed_lookup(inst: Installation, receipts: ReceiptSettings, receipt: str) -> float:
    with inst.database.read_session() as db:
        start = time.perf_counter()
        access = open_case_with_receipt(db, receipts, receipt)
        elapsed = time.perf_counter() - start
    assert access.case_id
    return elapsed


def timed_query(inst: Installation, lookup_key: bytes, repeat: int = 200) -> float:
    """Median time of the lookup query alone (what the case count could change)."""
    samples = []
    with inst.database.read_session() as db:
        stmt = (
            select(Case.id, CaseKey.wrap)
            .join(CaseKey, (CaseKey.case_id == Case.id) & (CaseKey.kind == KeyKind.CASE.value))
            .where(Case.receipt_lookup_key == lookup_key)
        )
        for _ in range(repeat):
            start = time.perf_counter()
            row = db.execute(stmt).first()
            samples.append(time.perf_counter() - start)
            assert row is not None
    return median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {machine_description()}")
    today = datetime.now(UTC).date()
    with installation_in_tempdir() as small, installation_in_tempdir() as big:
        kdf = small.settings.receipt_kdf
        print(
            f"receipt Argon2id: {kdf.memory_kib} KiB, t={kdf.time_cost}, p={kdf.parallelism} "
            "(defaults)"
        )
        for inst, total in ((small, args.small), (big, args.cases)):
            add_key_only_reviewer(inst.database, "intake")
            stats = seed_cases(
                inst.database, total - REAL_CASES, today=today, with_keys=True, seed=total
            )
            print(
                f"seeded {stats.cases} bulk cases in {stats.seconds:.1f} s "
                f"({stats.cases / max(stats.seconds, 1e-9):,.0f} rows/s)"
            )
        real = {id(small): submit_real(small, REAL_CASES), id(big): submit_real(big, REAL_CASES)}
        for inst in (small, big):
            print(f"installation {inst.root.name}: {count_cases(inst)} cases")
        settings = {id(small): receipts_of(small), id(big): receipts_of(big)}
        # Warm-up: one lookup each (imports, first connection, page cache).
        for inst in (small, big):
            timed_lookup(inst, settings[id(inst)], real[id(inst)][0])
        times: dict[int, list[float]] = {id(small): [], id(big): []}
        for r in range(args.rounds):
            order = (small, big) if r % 2 == 0 else (big, small)
            for inst in order:
                receipt = real[id(inst)][r % REAL_CASES]
                times[id(inst)].append(timed_lookup(inst, settings[id(inst)], receipt))
        t_small = median(times[id(small)])
        t_big = median(times[id(big)])
        q = {}
        for inst in (small, big):
            keys = derive_receipt_keys(
                parse_receipt(real[id(inst)][0]),
                settings[id(inst)].salt,
                settings[id(inst)].params,
            )
            q[id(inst)] = timed_query(inst, keys.lookup_key)
    ratio = t_big / t_small
    print(
        f"lookup with {args.small} cases: median {t_small * 1000:.1f} ms "
        f"(min {min(times[id(small)]) * 1000:.1f}, max {max(times[id(small)]) * 1000:.1f}, "
        f"n={args.rounds})"
    )
    print(
        f"lookup with {args.cases} cases: median {t_big * 1000:.1f} ms "
        f"(min {min(times[id(big)]) * 1000:.1f}, max {max(times[id(big)]) * 1000:.1f}, "
        f"n={args.rounds})"
    )
    print(
        f"lookup query alone (no Argon2id): {q[id(small)] * 1e6:.0f} µs with {args.small} "
        f"cases, {q[id(big)] * 1e6:.0f} µs with {args.cases} cases"
    )
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(f"ratio {ratio:.3f} (target <= {TARGET}): {verdict}")
    print(bench_line("receipt_lookup_ratio", ratio, "ratio"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
