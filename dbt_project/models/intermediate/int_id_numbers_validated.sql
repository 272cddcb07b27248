-- Every distinct ID number (身份证号码) seen in household sheets and ledgers, checked as
-- docs/defects.md defines it (GB 11643): valid when 18 characters, the first 17 digits, the
-- check character right (ISO 7064 MOD 11-2) and characters 7–14 a real date between 1900-01-01
-- and the end of the data (var last_month). A number Excel rounded (6.2010219850101E+17) is
-- "rounded" and never repaired; anything else — the old 15-digit form included — is invalid.
-- Only valid IDs get a person key, so invalid ones are never merged with anyone.
-- A view over the two per-source tables (int_household_/int_ledger_id_numbers_validated), for
-- analysts and tests: an ID in both appears once, its row the same in both.
{{ config(materialized='view') }}

select * from {{ ref('int_household_id_numbers_validated') }}
union
select * from {{ ref('int_ledger_id_numbers_validated') }}
