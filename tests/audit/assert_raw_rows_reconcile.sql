-- Nothing is dropped silently: for every raw table, raw rows = staged rows + rejected rows + rows of customers who
-- asked to be forgotten (erased_rows).
-- Raw rows are counted from the raw source itself, not from the base models.
select *
from {{ ref('raw_row_reconciliation') }}
where raw_rows <> staged_rows + rejected_rows + erased_rows
