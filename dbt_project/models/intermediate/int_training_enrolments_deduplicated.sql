-- The counting rule (计数规则): trainee-times (人次) count once per person × programme × year
-- of the course start. A repeat of the same person in the same programme and year is padding
-- (重复培训): the first course by start date, then by sheet row, counts; the others are flagged.
-- Persons whose ID is invalid or rounded carry a key of their own row, so they are never
-- taken for repeats of someone else. Rows without a programme or a start date do not count.
with enrolments as (
    select * from {{ ref('int_training_enrolments_checked') }}
),

ranked as (
    select
        *,
        case
            when programme_code is not null and start_date is not null
                then row_number() over (
                    partition by trainee_key, programme_code, start_year
                    order by start_date, source_file, sheet, row_number
                )
        end as repeat_rank,
        first_value(source_file) over first_course as first_source_file,
        first_value(sheet) over first_course as first_sheet,
        first_value(row_number) over first_course as first_row_number
    from enrolments
    window first_course as (
        partition by trainee_key, programme_code, start_year
        order by start_date, source_file, sheet, row_number
    )
)

select
    * exclude (first_source_file, first_sheet, first_row_number),
    coalesce(repeat_rank > 1, false) as is_duplicate,
    coalesce(repeat_rank = 1, false) as is_counted,
    case when repeat_rank > 1 then first_source_file end as duplicate_of_source_file,
    case when repeat_rank > 1 then first_sheet end as duplicate_of_sheet,
    case when repeat_rank > 1 then first_row_number end as duplicate_of_row_number
from ranked
