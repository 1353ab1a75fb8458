"""Write the CDNOW sample (Fader, Hardie & Lee 2005) as a raw folder in this project's input contract.

The CDNOW transaction data ship inside the `lifetimes` wheel on PyPI; this downloads the wheel (no install, no
dependencies), reads `CDNOW_sample.txt` (2,357 customers who first bought in the first quarter of 1997, 6,919
purchases up to June 1998) and writes `customers.csv` and `orders.csv`. Build it with the published calibration
period to compare the predicted-value models with the paper:

    python -m tools.fetch_cdnow --out data/cdnow
    dbt build --vars '{raw_data_path: data/cdnow, as_of_date: "1997-09-30", earliest_valid_date: "1990-01-01"}'

CDNOW has no signup dates: a customer's signup is their first purchase. Amounts are in US dollars.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

LIFETIMES_WHEEL = "lifetimes==0.11.3"
DATASETS = {"sample": "lifetimes/datasets/CDNOW_sample.txt", "master": "lifetimes/datasets/CDNOW_master.txt"}
# (customer id, date, dollars) positions: the sample has master id, sample id, date, CDs, dollars; the master file
# a header and customer id, date, CDs, dollars
COLUMNS = {"sample": (1, 2, 4), "master": (0, 1, 3)}


def download_transactions(dataset: str = "sample") -> list[list[str]]:
    """(customer id, yyyymmdd date, dollars) for each purchase in the CDNOW file."""
    with tempfile.TemporaryDirectory() as folder:
        completed = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             LIFETIMES_WHEEL, "-d", folder],
            capture_output=True, text=True, check=False,
        )
        wheels = list(Path(folder).glob("*.whl"))
        if completed.returncode != 0 or not wheels:
            raise SystemExit(f"fetch_cdnow: could not download {LIFETIMES_WHEEL} from the package index: "
                             f"{completed.stderr.strip().splitlines()[-1:] or 'no wheel'}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            text = wheel.read(DATASETS[dataset]).decode("ascii")
    positions = COLUMNS[dataset]
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return [[row[i] for i in positions] for row in rows if row[0].isdigit()]


def write_raw_folder(rows: list[list[str]], out: Path) -> tuple[int, int]:
    """customers.csv (id, signup = first purchase) and orders.csv (one completed order per CDNOW row)."""
    out.mkdir(parents=True, exist_ok=True)
    first_purchase: dict[str, str] = {}
    orders = []
    for line_number, row in enumerate(rows, start=1):
        customer_id, day, amount = row
        ordered_at = f"{day[:4]}-{day[4:6]}-{day[6:]}"
        first_purchase[customer_id] = min(first_purchase.get(customer_id, ordered_at), ordered_at)
        orders.append([f"cdnow-{line_number}", customer_id, ordered_at, "completed", amount])
    with (out / "customers.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "signup_at"])
        writer.writerows(sorted(first_purchase.items()))
    with (out / "orders.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "customer_id", "ordered_at", "status", "gross_amount"])
        writer.writerows(orders)
    return len(first_purchase), len(orders)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/cdnow"), help="raw folder to write")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="sample",
                        help="sample: 2,357 customers (the paper's); master: all 23,570")
    args = parser.parse_args(argv)
    rows = download_transactions(args.dataset)
    customers, orders = write_raw_folder(rows, args.out)
    print(f"fetch_cdnow: wrote {customers} customers and {orders} orders to {args.out}")


if __name__ == "__main__":
    main()
