"""Benchmark: Vietnamese collation (dvk.text.normalize.sort_vi / sort_people) against plain baselines.

Timing lives here, not in the test suite (a timed unit test fails on a loaded machine). The names
are the suite's own generator (family, 0–2 middle names, given name). Baselines, same list:

* `sorted(names)` — code point order (wrong for Vietnamese, the floor of what sorting costs);
* `sorted(names, key=str.casefold)` — a key function per name, no collation.

It prints each time, the baseline and the ratio; ratios are what to compare between machines.
Best of N runs: after the first, dvk's word-key caches are warm (as in a long export).

    .venv/bin/python bench/sort_bench.py                # 100,000 names
    .venv/bin/python bench/sort_bench.py --size 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAMILY = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
MIDDLE = "Văn Thị Hữu Đức Minh Thanh Ngọc Thu Quốc Xuân Hồng Kim Bảo".split()
GIVEN = ("An Anh Ánh Bình Châu Dũng Dung Giang Hà Hải Hạnh Hiếu Hoà Hòa Hùng Hương Khánh Lan "
         "Linh Long Mai Nam Nga Ngân Nhung Oanh Phúc Phương Quân Quý Sơn Tâm Thảo Thủy Thuỷ "
         "Trang Trinh Tú Tuấn Uyên Vân Việt Xuân Yến").split()


def names(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    return [" ".join([rnd.choice(FAMILY), *rnd.sample(MIDDLE, rnd.randint(0, 2)), rnd.choice(GIVEN)])
            for _ in range(n)]


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    args = ap.parse_args(argv)

    from dvk.text.normalize import sort_people, sort_vi

    data = names(args.size)
    plain = best_of(args.repeat, lambda: sorted(data))
    casefold = best_of(args.repeat, lambda: sorted(data, key=str.casefold))
    rows = [
        ("sort_vi", best_of(args.repeat, lambda: sort_vi(data))),
        ("sort_people", best_of(args.repeat, lambda: sort_people(data))),
    ]
    print(f"{args.size:,} names, best of {args.repeat}")
    print(f"{'':14}{'time':>10}{'/ sorted()':>14}{'/ casefold key':>16}")
    print(f"{'sorted()':14}{plain:>9.3f}s{1:>14.1f}{plain / casefold:>16.1f}")
    print(f"{'casefold key':14}{casefold:>9.3f}s{casefold / plain:>14.1f}{1:>16.1f}")
    for name, t in rows:
        print(f"{name:14}{t:>9.3f}s{t / plain:>14.1f}{t / casefold:>16.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
