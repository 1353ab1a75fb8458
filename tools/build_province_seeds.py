"""Build the province seeds from the shared reference mapping, keeping the spellings added to the seed by hand.

Writes ``seeds/vn_provinces.csv`` (the 34 provincial units in force since 1 July 2025 with
their regions) and ``seeds/vn_province_aliases.csv`` (every spelling the project recognises,
keyed by the same normalisation as the ``province_key`` macro).

Every row already in ``seeds/vn_province_aliases.csv`` is kept, its key computed again from its alias: to add a
spelling, append a line ``,<spelling>,<province>`` (the key may be left empty; the province as written in
``seeds/vn_provinces.csv``) and run this script. It stops, naming the line, when a province is not one of the 34
or when two spellings with the same key name different provinces. Without the reference file (a clone of the project
alone) the provinces are read from ``seeds/vn_provinces.csv`` and only the keys are computed.

Run: ``python -m tools.build_province_seeds [path/to/vn_provinces_2025.csv]``
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "vn_provinces_2025.csv"

# Spellings that normalisation alone does not reach: abbreviations, old and English names.
EXTRA_ALIASES: dict[str, list[str]] = {
    "TP. Hồ Chí Minh": [
        "TP.HCM", "TPHCM", "HCM", "HCMC", "Hồ Chí Minh", "Ho Chi Minh City", "Sài Gòn",
        "Saigon", "Sai Gon", "Thành phố Hồ Chí Minh",
    ],
    "Hà Nội": ["Hanoi", "HN", "Ha Noi City", "Thủ đô Hà Nội"],
    "Huế": ["TT Huế", "TT-Huế", "Thua Thien - Hue", "Hue City"],
    "Đà Nẵng": ["Danang", "DN"],
    "Hải Phòng": ["Haiphong", "HP"],
    "Cần Thơ": ["Cantho"],
    "Đồng Nai": ["Dong Nai"],
    "Khánh Hòa": ["Nha Trang", "Khánh Hoà"],
    "Lâm Đồng": ["Đà Lạt", "Da Lat", "Dalat"],
    "Đắk Lắk": ["Dak Lak", "Daklak", "Đắc Lắc", "Đắc Lắk", "Buôn Ma Thuột"],
}
OLD_EXTRA_ALIASES: dict[str, list[str]] = {
    "Bà Rịa - Vũng Tàu": ["BR-VT", "BRVT", "Vũng Tàu", "Vung Tau", "Bà Rịa Vũng Tàu"],
    "Hòa Bình": ["Hoà Bình"],
    "Thanh Hóa": ["Thanh Hoá"],
    "Kon Tum": ["Kontum"],
    "Đắk Nông": ["Dak Nong", "Đắc Nông"],
}


def province_key(name: str) -> str:
    """Same rule as the ``province_key`` SQL macro: fold case, accents and prefixes."""
    text = unicodedata.normalize("NFC", name.strip()).lower()
    text = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch)
    )
    text = text.replace("đ", "d")
    text = re.sub(r"^(tinh\s+|thanh pho\s+|tp[\s.]*|t\.p[\s.]*)", "", text)
    return re.sub(r"[^a-z0-9]", "", text)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def main(reference: Path = DEFAULT_REFERENCE, seeds: Path = ROOT / "seeds") -> None:
    provinces: dict[str, tuple[str, str]] = {}
    aliases: dict[str, tuple[str, str]] = {}

    def add(alias: str, province: str, where: str) -> None:
        key = province_key(alias)
        if not key:
            raise SystemExit(f"{where}: the spelling {alias!r} has no letter or digit")
        if province not in provinces:
            raise SystemExit(f"{where}: {province!r} is not one of the {len(provinces)} provinces of "
                             f"seeds/vn_provinces.csv")
        known = aliases.get(key)
        if known and known[1] != province:
            raise SystemExit(f"{where}: alias {alias!r} (key {key}) maps to {province}, "
                             f"and {known[0]!r} (same key) to {known[1]}")
        aliases.setdefault(key, (alias, province))

    if reference.is_file():
        rows = read_csv(reference)
        for row in rows:
            provinces[row["province"]] = (row["region"], row["socio_economic_region"])
        for row in rows:
            add(row["province"], row["province"], reference.name)
            add(row["old_province"], row["province"], reference.name)
            for alias in OLD_EXTRA_ALIASES.get(row["old_province"], []):
                add(alias, row["province"], reference.name)
        for province, extra in EXTRA_ALIASES.items():
            for alias in extra:
                add(alias, province, "EXTRA_ALIASES")
    else:
        print(f"{reference} not found: the provinces are those of seeds/vn_provinces.csv", file=sys.stderr)
        for row in read_csv(seeds / "vn_provinces.csv"):
            provinces[row["province"]] = (row["region"], row["socio_economic_region"])
    # the spellings already in the seed, those added by hand included (line 1 is the header)
    existing = seeds / "vn_province_aliases.csv"
    if existing.is_file():
        for line, row in enumerate(read_csv(existing), start=2):
            add((row["province_alias"] or "").strip(), (row["province"] or "").strip(), f"{existing.name} line {line}")

    with (seeds / "vn_provinces.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["province", "region", "socio_economic_region"])
        for province in sorted(provinces):
            writer.writerow([province, *provinces[province]])
    with existing.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["province_key", "province_alias", "province"])
        for key in sorted(aliases):
            writer.writerow([key, *aliases[key]])
    print(f"{len(provinces)} provinces, {len(aliases)} aliases", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_REFERENCE)
