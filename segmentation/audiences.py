"""Audience files for the channels, per care action, from the restricted activation list (docs/care-lift.md).

For each care action (its playbook entry, `care_reason`: `segment_at_risk.csv` for segment:at_risk) of
`restricted.customer_activation`, two files are written. Who is in them is decided per person (the customer ids
linked by a shared phone or email, docs/identity.md), because a shared phone reaches every id that holds it: the
activation list is already filtered so, and this module checks again against the mart before writing (defence in
depth: a list edited by hand or built by an older version cannot leak):

- a person with any row in a control group (``is_control_group``) is left out of every file;
- a person with any row whose ``has_marketing_consent`` is false, or none whose is true, is left out (Decree
  13/2023: silence is not consent);
- a phone or email listed in ``restricted.identity_overshared_keys`` (held by more ids than
  ``identity_max_ids_per_key``: a shop's number, a placeholder) is not the customer's own and is left out.

The files:

- ``meta/<care_reason>.csv``: a Facebook/Meta custom-audience customer list with the columns ``email`` and ``phone``, each
  normalised as Meta specifies before hashing (email trimmed and lower-cased; phone as digits with the country code
  and no ``+``, e.g. ``84912345678``) and SHA-256 hashed, lower-case hex; an empty cell where the customer has none.
  Rows with neither are left out.
- ``zalo/<care_reason>.csv``: the mobile numbers (``phone_kind`` mobile; a landline cannot receive Zalo messages) as digits
  with the country code, ``84912345678``, one column ``phone``: the form Zalo OA / ZNS uploads take. Not hashed: the
  recipient list of a message must be readable by the tool that sends it.

The files go into a restricted folder (default ``restricted/audiences/current``, beside, never inside, the BI exports
in ``exports/``), written into a new folder and switched into place with one rename. Everything is one DuckDB COPY per
file (set-based; no Python loop over customers).

Written by the export step (after ``make build`` publishes, and by ``make export``), or on their own:
``python -m segmentation.audiences [--warehouse PATH] [--out restricted/audiences]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

import duckdb

DEFAULT_WAREHOUSE = Path("warehouse/customer_segmentation.duckdb")
DEFAULT_OUT = Path("restricted/audiences")
ACTIVATION = "restricted.customer_activation"
SEGMENTS = "marts.customer_segments"
OVERSHARED = "restricted.identity_overshared_keys"
# the phone as Meta and Zalo want it: digits, country code first, no '+'
PHONE_DIGITS = "regexp_replace(phone, '[^0-9]', '', 'g')"


def default_out(export_out: Path | None = None) -> Path:
    """Where the audiences go: $AUDIENCES_PATH, else restricted/audiences beside the BI export folder (the export
    step: `make build` and `make export`), else restricted/audiences."""
    if os.environ.get("AUDIENCES_PATH"):
        return Path(os.environ["AUDIENCES_PATH"])
    return Path(export_out).parent / DEFAULT_OUT if export_out is not None else DEFAULT_OUT


class AudienceError(Exception):
    """A one-line reason the audiences were not written."""


# what write() may raise: a reason of its own, the file system, DuckDB
WRITE_ERRORS = (AudienceError, OSError, duckdb.Error)


def file_stem(action: str) -> str:
    """A file name for a care_reason (segment:at_risk -> segment_at_risk): lower case, anything but letters, digits,
    - and _ replaced by _."""
    return re.sub(r"[^a-z0-9_-]+", "_", action.strip().lower()) or "unnamed_action"


def audience_rows() -> str:
    """The rows of the activation list that may be contacted, checked again against the mart (module docstring):
    people with consent and outside every control group, overshared phones and emails emptied."""
    return f"""
        with people as (
            select
                person_id,
                bool_or(coalesce(is_control_group, false)) as any_control,
                bool_or(has_marketing_consent = false) as any_consent_no,
                bool_or(coalesce(has_marketing_consent, false)) as any_consent_yes
            from {SEGMENTS}
            group by person_id
        )
        select
            activation.customer_id,
            activation.care_reason,
            case when lower(trim(activation.email)) in (
                select key_value from {OVERSHARED} where key_type = 'email') then null
                else activation.email end as email,
            case when activation.phone in (
                select key_value from {OVERSHARED} where key_type = 'phone') then null
                else activation.phone end as phone,
            activation.phone_kind
        from {ACTIVATION} as activation
        inner join {SEGMENTS} as segments on activation.customer_id = segments.customer_id
        inner join people on segments.person_id = people.person_id
        where not people.any_control and not people.any_consent_no and people.any_consent_yes
    """


def write(warehouse: Path, out: Path, log=print) -> dict[str, dict[str, int]]:
    """Write the audience files of every action into out/current; return {action: {"meta": rows, "zalo": rows}}."""
    if not warehouse.exists():
        raise AudienceError(f"no warehouse at {warehouse}: run make build first")
    out.mkdir(parents=True, exist_ok=True)
    writing = out / f".writing-{os.getpid()}"
    shutil.rmtree(writing, ignore_errors=True)
    (writing / "meta").mkdir(parents=True)
    (writing / "zalo").mkdir(parents=True)
    counts: dict[str, dict[str, int]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = {row[0] for row in connection.sql(
            "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        missing = [table for table in (ACTIVATION, SEGMENTS, OVERSHARED) if table not in tables]
        if missing:
            raise AudienceError(f"{warehouse} has no {' or '.join(missing)}: run make build first")
        rows = audience_rows()
        actions = [row[0] for row in connection.sql(
            f"select distinct care_reason from ({rows}) where care_reason is not null order by 1"
        ).fetchall()]
        for action in actions:
            stem = file_stem(action)
            literal = "'" + action.replace("'", "''") + "'"
            meta = writing / "meta" / f"{stem}.csv"
            zalo = writing / "zalo" / f"{stem}.csv"
            connection.execute(f"""
                copy (
                    select
                        sha256(lower(trim(email))) as email,
                        case when phone is not null then sha256({PHONE_DIGITS}) end as phone
                    from ({rows})
                    where care_reason = {literal} and (email is not null or phone is not null)
                    order by 1, 2
                ) to '{meta}' (header, delimiter ',')
            """)
            connection.execute(f"""
                copy (
                    select distinct {PHONE_DIGITS} as phone
                    from ({rows})
                    where care_reason = {literal} and phone_kind = 'mobile' and phone is not null
                    order by 1
                ) to '{zalo}' (header, delimiter ',')
            """)
            counts[action] = {
                "meta": connection.sql(f"select count(*) from read_csv('{meta}', header = true)").fetchall()[0][0],
                "zalo": connection.sql(f"select count(*) from read_csv('{zalo}', header = true, "
                                       "columns = {'phone': 'VARCHAR'})").fetchall()[0][0],
            }
    current = out / "current"
    previous = out / ".previous"
    shutil.rmtree(previous, ignore_errors=True)
    if current.exists():
        os.replace(current, previous)
    os.replace(writing, current)
    shutil.rmtree(previous, ignore_errors=True)
    total = sum(count["meta"] for count in counts.values())
    log(f"audiences: {len(counts)} care actions, {total:,} Meta rows (one per contactable customer id) "
        f"written to {current} (restricted: Meta lists hashed, Zalo lists of mobile numbers)")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path(os.environ.get("DUCKDB_PATH", DEFAULT_WAREHOUSE)))
    parser.add_argument("--out", type=Path, default=default_out())
    args = parser.parse_args(argv)
    try:
        write(args.warehouse, args.out)
    except WRITE_ERRORS as error:
        print(f"audiences: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
