-- The floor for Q1 without funders: Q1's floor (q1-floor.sql) less its
-- last statement, and its fundings without the funder each names, which
-- this query does not read; the same parents, bound as arrays.
SELECT id FROM partner ORDER BY id LIMIT 50;
SELECT id, partner_id FROM (SELECT id, partner_id, ROW_NUMBER() OVER (PARTITION BY partner_id ORDER BY id) AS rn FROM agreement WHERE partner_id = ANY(:partners)) w WHERE rn <= 10;
SELECT id, agreement_id FROM (SELECT id, agreement_id, ROW_NUMBER() OVER (PARTITION BY agreement_id ORDER BY id) AS rn FROM project WHERE agreement_id = ANY(:agreements)) w WHERE rn <= 5;
SELECT id, amount_minor, currency, project_id FROM (SELECT id, amount_minor, currency, project_id, ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY id) AS rn FROM funding WHERE project_id = ANY(:projects)) w WHERE rn <= 4;
