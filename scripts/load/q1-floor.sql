-- The floor for Q1: the statements Q1 needs and no more, one per level,
-- plain rows, the columns Q1 reads, each level's parents bound as an array
-- (pgbench -M prepared; scripts/load.sh works out the arrays once, first).
-- The server also reads one row past each page to know whether another
-- follows; the floor does not.
SELECT id FROM partner ORDER BY id LIMIT 50;
SELECT id, partner_id FROM (SELECT id, partner_id, ROW_NUMBER() OVER (PARTITION BY partner_id ORDER BY id) AS rn FROM agreement WHERE partner_id = ANY(:partners)) w WHERE rn <= 10;
SELECT id, agreement_id FROM (SELECT id, agreement_id, ROW_NUMBER() OVER (PARTITION BY agreement_id ORDER BY id) AS rn FROM project WHERE agreement_id = ANY(:agreements)) w WHERE rn <= 5;
SELECT funder_id, id, amount_minor, currency, project_id FROM (SELECT id, funder_id, amount_minor, currency, project_id, ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY id) AS rn FROM funding WHERE project_id = ANY(:projects)) w WHERE rn <= 4;
SELECT id, name_en FROM partner WHERE id = ANY(:funders);
