-- The floor for Q1: the same rows fetched by hand-written SQL, one statement
-- per level, each level's ids handed to the next (\gset), rows returned as
-- JSON. No server can fetch the same data with less database work.
SELECT array_agg(id) AS p, json_agg(x) AS p_rows FROM (SELECT id, name_en FROM partner ORDER BY id LIMIT 50) x \gset
SELECT array_agg(id) AS a, json_agg(w) AS a_rows FROM (SELECT id, partner_id, title_en, ROW_NUMBER() OVER (PARTITION BY partner_id ORDER BY id) AS rn FROM agreement WHERE partner_id = ANY(':p'::bigint[])) w WHERE rn <= 10 \gset
SELECT array_agg(id) AS j, json_agg(w) AS j_rows FROM (SELECT id, agreement_id, name_en, ROW_NUMBER() OVER (PARTITION BY agreement_id ORDER BY id) AS rn FROM project WHERE agreement_id = ANY(':a'::bigint[])) w WHERE rn <= 5 \gset
SELECT array_agg(DISTINCT funder_id) AS f, json_agg(w) AS f_rows FROM (SELECT id, project_id, funder_id, amount_minor, currency, ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY id) AS rn FROM funding WHERE project_id = ANY(':j'::bigint[])) w WHERE rn <= 4 \gset
SELECT json_agg(x) AS funders FROM (SELECT id, name_en FROM partner WHERE id = ANY(':f'::bigint[])) x \gset
