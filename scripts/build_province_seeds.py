"""Build the province seeds from the shared reference mapping.

Writes ``seeds/vn_provinces.csv`` (the 34 provincial units in force since 1 July 2025 with
their regions) and ``seeds/vn_province_aliases.csv`` (every spelling the project recognises,
keyed by the same normalisation as the ``province_key`` macro).

Run: ``python -m scripts.build_province_seeds [path/to/vn_provinces_2025.csv]``
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


def main(reference: Path = DEFAULT_REFERENCE) -> None:
    with reference.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    provinces: dict[str, tuple[str, str]] = {}
    aliases: dict[str, tuple[str, str]] = {}

    def add(alias: str, province: str) -> None:
        key = province_key(alias)
        known = aliases.get(key)
        if known and known[1] != province:
            raise SystemExit(f"alias {alias!r} (key {key}) maps to {known[1]} and {province}")
        aliases.setdefault(key, (alias, province))

    for row in rows:
        provinces[row["province"]] = (row["region"], row["socio_economic_region"])
        add(row["province"], row["province"])
        add(row["old_province"], row["province"])
        for alias in OLD_EXTRA_ALIASES.get(row["old_province"], []):
            add(alias, row["province"])
    for province, extra in EXTRA_ALIASES.items():
        for alias in extra:
            add(alias, province)

    seeds = ROOT / "seeds"
    with (seeds / "vn_provinces.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["province", "region", "socio_economic_region"])
        for province in sorted(provinces):
            writer.writerow([province, *provinces[province]])
    with (seeds / "vn_province_aliases.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["province_key", "province_alias", "province"])
        for key in sorted(aliases):
            writer.writerow([key, *aliases[key]])
    print(f"{len(provinces)} provinces, {len(aliases)} aliases", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_REFERENCE)
