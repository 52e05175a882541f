-- sverka reconciliation contract v2, sections 2-5 (the contract's own CSV/Parquet/Arrow
-- layout; no provider files, no decisions), as one DuckDB SQL script.
--
-- Benchmark comparison only (benches/compare), not the product. Run it through
-- duckdb_reconcile.py, which creates the inputs this script expects:
--
--   raw_instructions(file_idx, row, malformed, instruction_id, beneficiary_id, program,
--                    cycle, provider, account, amount, currency, due_date)    -- all VARCHAR
--   raw_settlements (file_idx, row, malformed, provider, provider_ref, instruction_id,
--                    account, amount, fee, currency, status, value_date)
--   files(side, file_idx, file, format)    -- each input file: its path as given, format
--   currencies(code VARCHAR, minor_units INTEGER)               -- schemas/iso4217.json
--   variables late_days, fallback_days, shared_account_min (integers), outlier_factor
--   (DECIMAL(18,4)), set with SET VARIABLE.
--
-- file_idx = position of the file in input order, row = 1-based data row: (file_idx, row)
-- is the input order. The path is joined on only in the outputs: a long text in every row
-- would cost memory in each table on the way. `malformed` is the raw text of a CSV record
-- with the wrong number of fields (its other columns are NULL), else NULL. The script
-- leaves out_instructions, out_settlements and out_rejects in output order, and
-- out_totals, the figures of summary.json; the driver writes them.
--
-- Amounts are exact: the text is validated first, then cast (after normalising the
-- fraction to 4 digits, the largest minor units in the ISO table) to DECIMAL(38,4).
-- No floating point anywhere.

-- Trim surrounding spaces and tabs only (U+0020, U+0009); empty -> NULL ("missing").
CREATE OR REPLACE TEMP MACRO tx(s) AS nullif(trim(s, ' ' || chr(9)), '');
-- -?digits(.digits)? with at most 15 integer digits.
CREATE OR REPLACE TEMP MACRO amt_ok(a) AS
    regexp_full_match(a, '-?[0-9]+(\.[0-9]+)?')
    AND length(split_part(ltrim(a, '-'), '.', 1)) <= 15;
-- Exact value of a text that passed amt_ok, at scale 4. Digits beyond the 4th decimal are
-- only ever zeros for rows that survive amount_precision, so cutting them is exact.
CREATE OR REPLACE TEMP MACRO amt_val(a) AS
    CAST((CASE WHEN starts_with(a, '-') THEN '-' ELSE '' END)
         || split_part(ltrim(a, '-'), '.', 1) || '.'
         || rpad(left(split_part(a, '.', 2), 4), 4, '0') AS DECIMAL(38, 4));
-- No non-zero digit beyond the currency's minor units.
CREATE OR REPLACE TEMP MACRO prec_ok(a, mu) AS
    rtrim(substr(split_part(a, '.', 2), mu + 1), '0') = '';
-- YYYY-MM-DD and a real calendar date (years 0001-9999: there is no year 0).
CREATE OR REPLACE TEMP MACRO dt_val(d) AS
    CASE WHEN regexp_full_match(d, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND NOT starts_with(d, '0000')
         THEN TRY_CAST(d AS DATE) END;

------------------------------------------------------------------------------------------
-- 2. Field validation: instructions
------------------------------------------------------------------------------------------
CREATE OR REPLACE TEMP VIEW i_t AS
SELECT r.file_idx, r.row, r.malformed,
       tx(r.instruction_id) AS instruction_id, tx(r.beneficiary_id) AS beneficiary_id,
       tx(r.program) AS program, tx(r.cycle) AS cycle, tx(r.provider) AS provider,
       tx(r.account) AS account, tx(r.amount) AS amount, tx(r.currency) AS currency,
       tx(r.due_date) AS due_date,
       -- the value a field reject shows: the cell's original text (untrimmed)
       r.instruction_id AS raw_instruction_id, r.beneficiary_id AS raw_beneficiary_id,
       r.program AS raw_program, r.cycle AS raw_cycle, r.provider AS raw_provider,
       r.account AS raw_account, r.amount AS raw_amount, r.currency AS raw_currency,
       r.due_date AS raw_due_date
FROM raw_instructions r;

CREATE OR REPLACE TEMP VIEW i_v AS
WITH p AS (
    SELECT t.*, c.minor_units AS mu,
           amt_ok(t.amount) AS a_ok,
           CASE WHEN amt_ok(t.amount) THEN amt_val(t.amount) END AS amt,
           dt_val(t.due_date) AS due
    FROM i_t t LEFT JOIN currencies c ON c.code = t.currency
)
SELECT p.*,
    CASE
        WHEN malformed IS NOT NULL  THEN {'reason': 'malformed_row', 'col': NULL}
        WHEN instruction_id IS NULL THEN {'reason': 'missing_field', 'col': 'instruction_id'}
        WHEN beneficiary_id IS NULL THEN {'reason': 'missing_field', 'col': 'beneficiary_id'}
        WHEN program IS NULL        THEN {'reason': 'missing_field', 'col': 'program'}
        WHEN cycle IS NULL          THEN {'reason': 'missing_field', 'col': 'cycle'}
        WHEN provider IS NULL       THEN {'reason': 'missing_field', 'col': 'provider'}
        WHEN account IS NULL        THEN {'reason': 'missing_field', 'col': 'account'}
        WHEN amount IS NULL         THEN {'reason': 'missing_field', 'col': 'amount'}
        WHEN NOT a_ok               THEN {'reason': 'invalid_amount', 'col': 'amount'}
        WHEN amt <= 0               THEN {'reason': 'non_positive_amount', 'col': 'amount'}
        WHEN currency IS NULL       THEN {'reason': 'missing_field', 'col': 'currency'}
        WHEN mu IS NULL             THEN {'reason': 'unknown_currency', 'col': 'currency'}
        WHEN NOT prec_ok(amount, mu) THEN {'reason': 'amount_precision', 'col': 'amount'}
        WHEN due_date IS NULL       THEN {'reason': 'missing_field', 'col': 'due_date'}
        WHEN due IS NULL            THEN {'reason': 'invalid_date', 'col': 'due_date'}
    END AS rej
FROM p;

------------------------------------------------------------------------------------------
-- 2. Field validation: settlements
------------------------------------------------------------------------------------------
CREATE OR REPLACE TEMP VIEW s_t AS
SELECT r.file_idx, r.row, r.malformed,
       tx(r.provider) AS provider, tx(r.provider_ref) AS provider_ref,
       tx(r.instruction_id) AS instruction_id, tx(r.account) AS account,
       tx(r.amount) AS amount, tx(r.fee) AS fee, tx(r.currency) AS currency,
       tx(r.status) AS status, tx(r.value_date) AS value_date,
       -- the value a field reject shows: the cell's original text (untrimmed)
       r.provider AS raw_provider, r.provider_ref AS raw_provider_ref,
       r.account AS raw_account, r.amount AS raw_amount, r.fee AS raw_fee,
       r.currency AS raw_currency, r.status AS raw_status, r.value_date AS raw_value_date
FROM raw_settlements r;

-- (v2) account is optional; amount and currency may be empty when the trimmed status is
-- exactly FAILED, but currency is required whenever amount or fee has a value. The order
-- of the rules is the column order of the contract's table, as in v1.
CREATE OR REPLACE TEMP VIEW s_v AS
WITH p AS (
    SELECT t.*, c.minor_units AS mu,
           t.status IS NOT DISTINCT FROM 'FAILED' AS is_failed,
           amt_ok(t.amount) AS a_ok,
           CASE WHEN amt_ok(t.amount) THEN amt_val(t.amount) END AS amt,
           amt_ok(t.fee) AS f_ok,
           CASE WHEN amt_ok(t.fee) THEN amt_val(t.fee) END AS fee_amt,
           dt_val(t.value_date) AS vdate
    FROM s_t t LEFT JOIN currencies c ON c.code = t.currency
)
SELECT p.*,
    CASE
        WHEN malformed IS NOT NULL  THEN {'reason': 'malformed_row', 'col': NULL}
        WHEN provider IS NULL       THEN {'reason': 'missing_field', 'col': 'provider'}
        WHEN provider_ref IS NULL   THEN {'reason': 'missing_field', 'col': 'provider_ref'}
        WHEN amount IS NULL AND NOT is_failed
                                    THEN {'reason': 'missing_field', 'col': 'amount'}
        WHEN amount IS NOT NULL AND NOT a_ok
                                    THEN {'reason': 'invalid_amount', 'col': 'amount'}
        WHEN amount IS NOT NULL AND amt < 0
                                    THEN {'reason': 'negative_amount', 'col': 'amount'}
        WHEN fee IS NOT NULL AND NOT f_ok THEN {'reason': 'invalid_amount', 'col': 'fee'}
        WHEN fee IS NOT NULL AND fee_amt < 0 THEN {'reason': 'negative_amount', 'col': 'fee'}
        WHEN currency IS NULL AND (NOT is_failed OR amount IS NOT NULL OR fee IS NOT NULL)
                                    THEN {'reason': 'missing_field', 'col': 'currency'}
        WHEN currency IS NOT NULL AND mu IS NULL
                                    THEN {'reason': 'unknown_currency', 'col': 'currency'}
        WHEN amount IS NOT NULL AND NOT prec_ok(amount, mu)
                                    THEN {'reason': 'amount_precision', 'col': 'amount'}
        WHEN fee IS NOT NULL AND NOT prec_ok(fee, mu)
                                    THEN {'reason': 'amount_precision', 'col': 'fee'}
        WHEN status IS NULL         THEN {'reason': 'missing_field', 'col': 'status'}
        WHEN status NOT IN ('SETTLED', 'FAILED', 'RETURNED')
                                    THEN {'reason': 'invalid_status', 'col': 'status'}
        WHEN value_date IS NULL     THEN {'reason': 'missing_field', 'col': 'value_date'}
        WHEN vdate IS NULL          THEN {'reason': 'invalid_date', 'col': 'value_date'}
    END AS rej
FROM p;

------------------------------------------------------------------------------------------
-- 2. De-duplication among field-valid rows (first in input order wins)
------------------------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE i_d AS
SELECT file_idx, row, instruction_id, beneficiary_id, program, cycle,
       provider, account, currency, amt, due, rej,
       CASE WHEN rej IS NULL THEN
           row_number() OVER (PARTITION BY (rej IS NULL), instruction_id ORDER BY file_idx, row) > 1
       END AS dup,
       CASE WHEN malformed IS NOT NULL THEN malformed
       ELSE CASE rej.col
           WHEN 'instruction_id' THEN raw_instruction_id
           WHEN 'beneficiary_id' THEN raw_beneficiary_id
           WHEN 'program' THEN raw_program WHEN 'cycle' THEN raw_cycle
           WHEN 'provider' THEN raw_provider WHEN 'account' THEN raw_account
           WHEN 'amount' THEN raw_amount WHEN 'currency' THEN raw_currency
           WHEN 'due_date' THEN raw_due_date END END AS rej_value
FROM i_v;

CREATE OR REPLACE TEMP TABLE ia AS            -- accepted instructions
SELECT file_idx, row, instruction_id, beneficiary_id, program, cycle, provider,
       account, currency, amt, due
FROM i_d WHERE rej IS NULL AND NOT dup;

CREATE OR REPLACE TEMP TABLE s_d AS
SELECT file_idx, row, provider, provider_ref, instruction_id,
       account, currency, status, amt, fee_amt, vdate, rej,
       CASE WHEN rej IS NULL THEN
           row_number() OVER (PARTITION BY (rej IS NULL), provider, provider_ref
                              ORDER BY file_idx, row) > 1
       END AS dup,
       CASE WHEN malformed IS NOT NULL THEN malformed
       ELSE CASE rej.col
           WHEN 'provider' THEN raw_provider WHEN 'provider_ref' THEN raw_provider_ref
           WHEN 'account' THEN raw_account WHEN 'amount' THEN raw_amount
           WHEN 'fee' THEN raw_fee WHEN 'currency' THEN raw_currency
           WHEN 'status' THEN raw_status WHEN 'value_date' THEN raw_value_date END END
           AS rej_value
FROM s_v;

CREATE OR REPLACE TEMP TABLE sa AS            -- accepted settlements; sid = input position
SELECT (file_idx::BIGINT << 32) + row AS sid, file_idx, row, provider,
       provider_ref, instruction_id, account, currency, status, amt,
       coalesce(fee_amt, 0)::DECIMAL(38, 4) AS fee_amt, vdate
FROM s_d WHERE rej IS NULL AND NOT dup;

------------------------------------------------------------------------------------------
-- 3. Matching
------------------------------------------------------------------------------------------
-- 3.1 reference: echoed instruction_id equals an accepted instruction's id
CREATE OR REPLACE TEMP TABLE m_ref AS
SELECT s.sid, i.instruction_id AS iid
FROM sa s JOIN ia i ON i.instruction_id = s.instruction_id;

-- 3.2 fallback candidates among the rest. (v2) A settlement without an account, amount
-- or currency is never a candidate (the equality join would drop it too; said here).
CREATE OR REPLACE TEMP TABLE cand AS
WITH fs AS (SELECT * FROM sa WHERE sid NOT IN (SELECT sid FROM m_ref)
                               AND account IS NOT NULL AND amt IS NOT NULL
                               AND currency IS NOT NULL),
     fi AS (SELECT * FROM ia WHERE instruction_id NOT IN (SELECT iid FROM m_ref))
SELECT fs.sid, fi.instruction_id AS iid
FROM fs JOIN fi
  ON fs.provider = fi.provider AND fs.account = fi.account
 AND fs.currency = fi.currency AND fs.amt = fi.amt
WHERE abs(date_diff('day', fi.due, fs.vdate)) <= getvariable('fallback_days');

CREATE OR REPLACE TEMP TABLE cand_n AS
SELECT sid, iid,
       count(*) OVER (PARTITION BY sid) AS s_n,
       count(*) OVER (PARTITION BY iid) AS i_n
FROM cand;

CREATE OR REPLACE TEMP TABLE m_all AS
SELECT sid, iid, 'REFERENCE' AS method FROM m_ref
UNION ALL
SELECT sid, iid, 'FALLBACK' AS method FROM cand_n WHERE s_n = 1 AND i_n = 1;

-- a settlement with candidates but no unique mutual pair
CREATE OR REPLACE TEMP TABLE ambiguous AS
SELECT DISTINCT sid FROM cand_n WHERE NOT (s_n = 1 AND i_n = 1);

------------------------------------------------------------------------------------------
-- 4. Status and flags
------------------------------------------------------------------------------------------
-- (v2) A settlement without a currency is no CURRENCY_MISMATCH and an empty account no
-- ACCOUNT_MISMATCH; paid counts only settlements in the instruction's currency.
CREATE OR REPLACE TEMP TABLE agg AS
SELECT m.iid,
       count(*) AS n,
       count(*) FILTER (WHERE s.status = 'SETTLED') AS n_settled,
       count(*) FILTER (WHERE s.status = 'RETURNED') AS n_returned,
       coalesce(bool_or(s.currency IS NOT NULL AND s.currency <> i.currency), false) AS cur_mis,
       coalesce(sum(s.amt) FILTER (WHERE s.status = 'SETTLED' AND s.currency = i.currency), 0)
         - coalesce(sum(s.amt) FILTER (WHERE s.status = 'RETURNED' AND s.currency = i.currency), 0)
         AS paid,
       coalesce(bool_or(s.status = 'SETTLED' AND s.account IS NOT NULL
                        AND s.account <> i.account), false) AS acct_mis,
       bool_or(s.status = 'SETTLED'
               AND date_diff('day', i.due, s.vdate) > getvariable('late_days')) AS late,
       bool_or(s.provider <> i.provider) AS prov_mis,
       bool_or(m.method = 'FALLBACK') AS fb
FROM m_all m JOIN sa s ON s.sid = m.sid JOIN ia i ON i.instruction_id = m.iid
GROUP BY m.iid;

-- lower median: element at index floor((k-1)/2) of the k amounts sorted ascending
CREATE OR REPLACE TEMP TABLE med AS
SELECT program, cycle, currency, amt AS med
FROM (SELECT program, cycle, currency, amt,
             row_number() OVER (PARTITION BY program, cycle, currency ORDER BY amt) AS rn,
             count(*) OVER (PARTITION BY program, cycle, currency) AS k
      FROM ia)
WHERE rn - 1 = (k - 1) // 2;

CREATE OR REPLACE TEMP TABLE dup_ben AS
SELECT beneficiary_id, program, cycle FROM ia
GROUP BY beneficiary_id, program, cycle HAVING count(*) >= 2;

CREATE OR REPLACE TEMP TABLE shared_acct AS
SELECT provider, account FROM ia
GROUP BY provider, account
HAVING count(DISTINCT beneficiary_id) >= getvariable('shared_account_min');

CREATE OR REPLACE TEMP TABLE out_instructions AS
SELECT i.instruction_id, i.beneficiary_id, i.program, i.cycle, i.provider, i.account,
       i.amt AS amount, i.currency, i.due AS due_date,
       CASE
           WHEN a.n IS NULL                        THEN 'UNPAID'
           WHEN a.cur_mis                          THEN 'CURRENCY_MISMATCH'
           WHEN a.n_settled >= 2                   THEN 'DOUBLE_PAID'
           WHEN a.n_settled = 0 AND a.n_returned > 0 THEN 'RETURNED'
           WHEN a.n_settled = 0                    THEN 'FAILED'
           WHEN a.paid = 0 AND a.n_returned > 0    THEN 'RETURNED'
           WHEN a.paid = i.amt                     THEN 'PAID'
           WHEN a.paid < i.amt                     THEN 'UNDERPAID'
           ELSE 'OVERPAID'
       END AS status,
       coalesce(a.paid, 0)::DECIMAL(38, 4) AS paid_amount,
       (coalesce(a.paid, 0) - i.amt)::DECIMAL(38, 4) AS difference,
       coalesce(a.n, 0)::BIGINT AS settlement_count,
       concat_ws(';',
           CASE WHEN a.acct_mis THEN 'ACCOUNT_MISMATCH' END,
           CASE WHEN i.amt > getvariable('outlier_factor') * md.med THEN 'AMOUNT_OUTLIER' END,
           CASE WHEN db.beneficiary_id IS NOT NULL THEN 'DUPLICATE_BENEFICIARY' END,
           CASE WHEN a.fb THEN 'FALLBACK_MATCH' END,
           CASE WHEN a.late THEN 'LATE' END,
           CASE WHEN a.prov_mis THEN 'PROVIDER_MISMATCH' END,
           CASE WHEN sh.provider IS NOT NULL THEN 'SHARED_ACCOUNT' END) AS flags,
       f.file, i.row::BIGINT AS row, '' AS decision_ids
FROM ia i
JOIN files f ON f.side = 'instructions' AND f.file_idx = i.file_idx
LEFT JOIN agg a ON a.iid = i.instruction_id
LEFT JOIN med md ON md.program = i.program AND md.cycle = i.cycle AND md.currency = i.currency
LEFT JOIN dup_ben db ON db.beneficiary_id = i.beneficiary_id AND db.program = i.program
                    AND db.cycle = i.cycle
LEFT JOIN shared_acct sh ON sh.provider = i.provider AND sh.account = i.account
ORDER BY i.file_idx, i.row;

CREATE OR REPLACE TEMP TABLE out_settlements AS
SELECT s.provider, s.provider_ref, s.instruction_id, s.account, s.amt AS amount,
       s.fee_amt AS fee, s.currency, s.status, s.vdate AS value_date,
       coalesce(m.method, 'NONE') AS match_method,
       m.iid AS matched_instruction_id,
       CASE WHEN am.sid IS NOT NULL THEN 'AMBIGUOUS' ELSE '' END AS flags,
       f.file, s.row::BIGINT AS row, f.format, '' AS decision_ids
FROM sa s
JOIN files f ON f.side = 'settlements' AND f.file_idx = s.file_idx
LEFT JOIN m_all m ON m.sid = s.sid
LEFT JOIN ambiguous am ON am.sid = s.sid
ORDER BY s.file_idx, s.row;

------------------------------------------------------------------------------------------
-- Rejects: instructions side first, then input order
------------------------------------------------------------------------------------------
CREATE OR REPLACE TEMP VIEW out_rejects AS
-- value: a field reject shows the cell's original text (a malformed row its record); a
-- duplicate shows the (trimmed) id it repeats, as sverka does.
SELECT r.side, f.file, r.row, r."column", r.reason, left(r."value", 200) AS "value"
FROM (
    SELECT 0 AS side_idx, 'instructions' AS side, file_idx, row::BIGINT AS row,
           CASE WHEN dup THEN 'instruction_id' ELSE rej.col END AS "column",
           CASE WHEN dup THEN 'duplicate_instruction_id' ELSE rej.reason END AS reason,
           CASE WHEN dup THEN instruction_id ELSE rej_value END AS "value"
    FROM i_d WHERE rej IS NOT NULL OR dup
    UNION ALL
    SELECT 1, 'settlements', file_idx, row::BIGINT,
           CASE WHEN dup THEN 'provider_ref' ELSE rej.col END,
           CASE WHEN dup THEN 'duplicate_provider_ref' ELSE rej.reason END,
           CASE WHEN dup THEN provider_ref ELSE rej_value END
    FROM s_d WHERE rej IS NOT NULL OR dup
) r
JOIN files f ON f.side = r.side AND f.file_idx = r.file_idx
ORDER BY r.side_idx, r.file_idx, r.row;

------------------------------------------------------------------------------------------
-- 5. Totals for summary.json
------------------------------------------------------------------------------------------
-- One contribution row per accepted instruction and per accepted settlement that has a
-- currency ((v2) one without counts in no currency's totals). `grp_provider` is the row's
-- own provider; `grp_program` the instruction's programme, for a settlement that of the
-- instruction it is matched to (NULL: unmatched, counted in no programme).
CREATE OR REPLACE TEMP VIEW contrib AS
SELECT currency, provider AS grp_provider, program AS grp_program,
       1 AS instructed_count, amount AS instructed_amount,
       0 AS settled_count, 0::DECIMAL(38, 4) AS settled_amount,
       0 AS returned_count, 0::DECIMAL(38, 4) AS returned_amount,
       0 AS failed_count, 0::DECIMAL(38, 4) AS fees,
       (status = 'UNPAID')::INT AS unpaid_count,
       CASE WHEN status = 'UNPAID' THEN amount ELSE 0 END AS unpaid_amount,
       0 AS unexpected_count, 0::DECIMAL(38, 4) AS unexpected_amount
FROM out_instructions
UNION ALL
SELECT s.currency, s.provider, i.program,
       0, 0,
       (s.status = 'SETTLED')::INT, CASE WHEN s.status = 'SETTLED' THEN s.amount ELSE 0 END,
       (s.status = 'RETURNED')::INT, CASE WHEN s.status = 'RETURNED' THEN s.amount ELSE 0 END,
       (s.status = 'FAILED')::INT, s.fee,
       0, 0,
       (s.status = 'SETTLED' AND s.match_method = 'NONE')::INT,
       CASE WHEN s.status = 'SETTLED' AND s.match_method = 'NONE' THEN s.amount ELSE 0 END
FROM out_settlements s LEFT JOIN ia i ON i.instruction_id = s.matched_instruction_id
WHERE s.currency IS NOT NULL;

CREATE OR REPLACE TEMP VIEW out_totals AS
SELECT CASE WHEN grouping(grp_provider) = 0 THEN 'provider'
            WHEN grouping(grp_program) = 0 THEN 'program' ELSE 'currency' END AS kind,
       coalesce(grp_provider, grp_program) AS grp, currency,
       sum(instructed_count)::BIGINT, sum(instructed_amount)::DECIMAL(38, 4),
       sum(settled_count)::BIGINT, sum(settled_amount)::DECIMAL(38, 4),
       sum(returned_count)::BIGINT, sum(returned_amount)::DECIMAL(38, 4),
       sum(failed_count)::BIGINT, sum(fees)::DECIMAL(38, 4),
       sum(unpaid_count)::BIGINT, sum(unpaid_amount)::DECIMAL(38, 4),
       sum(unexpected_count)::BIGINT, sum(unexpected_amount)::DECIMAL(38, 4)
FROM contrib
GROUP BY GROUPING SETS ((currency), (grp_provider, currency), (grp_program, currency))
HAVING grouping(grp_program) = 1 OR grp_program IS NOT NULL
ORDER BY kind, grp, currency;
