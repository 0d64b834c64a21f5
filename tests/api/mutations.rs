//! Writes: every kind of record created, read back, changed and deleted,
//! each in one transaction with its history entry.

use partnership_registry::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::on_both_databases;

pub const CREATE_PARTNER: &str = r#"mutation($input: CreatePartnerInput!) {
  createPartner(input: $input) { id slug name(lang: EN) acronym(lang: EN) version parent { slug } crimeAreas { slug } }
}"#;
pub const UPDATE_PARTNER: &str = r#"mutation($input: UpdatePartnerInput!) {
  updatePartner(input: $input) { id name(lang: EN) acronym(lang: EN) version parent { slug } crimeAreas { slug } }
}"#;
pub const DELETE_PARTNER: &str = r#"mutation($id: ID!, $v: Int!, $cascade: Boolean) {
  deletePartner(id: $id, expectedVersion: $v, cascade: $cascade) { id databaseId deleted }
}"#;
pub const CREATE_AGREEMENT: &str = r#"mutation($input: CreateAgreementInput!) {
  createAgreement(input: $input) { id reference title(lang: FR) signedYear signedOn partner { slug } version }
}"#;
pub const CREATE_PROJECT: &str = r#"mutation($input: CreateProjectInput!) {
  createProject(input: $input) {
    id code version agreement { reference }
    crimeAreas { slug } policingGoals { number } countries { code }
  }
}"#;
pub const CREATE_FUNDING: &str = r#"mutation($input: CreateFundingInput!) {
  createFunding(input: $input) { id version amount { amount currency } funder { slug } project { code } }
}"#;

/// Input for a new partner with this slug.
pub fn partner_input(slug: &str) -> Value {
    json!({
        "slug": slug, "nameEn": "Test Partner", "nameFr": "Partenaire de test",
        "kind": "NGO", "sector": "PRIVATE"
    })
}

/// Creates a partner and returns its id.
pub async fn create_partner(app: &TestApp, token: &str, slug: &str) -> String {
    let data = app.data_as(token, CREATE_PARTNER, json!({ "input": partner_input(slug) })).await;
    data["createPartner"]["id"].as_str().expect("an id").to_owned()
}

/// Creates an agreement with the partner and returns its id.
pub async fn create_agreement(app: &TestApp, token: &str, partner: &str, reference: &str) -> String {
    let input = json!({
        "partnerId": partner, "reference": reference, "titleEn": "Test agreement", "titleFr": "Accord de test",
        "kind": "COOPERATION_AGREEMENT", "status": "IN_FORCE"
    });
    let data = app.data_as(token, CREATE_AGREEMENT, json!({ "input": input })).await;
    data["createAgreement"]["id"].as_str().expect("an id").to_owned()
}

/// Creates a project under the agreement and returns its id.
pub async fn create_project(app: &TestApp, token: &str, agreement: &str, code: &str) -> String {
    let input = json!({
        "agreementId": agreement, "code": code, "nameEn": "Test project", "nameFr": "Projet de test",
        "status": "ACTIVE"
    });
    let data = app.data_as(token, CREATE_PROJECT, json!({ "input": input })).await;
    data["createProject"]["id"].as_str().expect("an id").to_owned()
}

/// Creates a funding of the project by the funder and returns its id.
pub async fn create_funding(app: &TestApp, token: &str, project: &str, funder: &str, amount: &str) -> String {
    let input = json!({
        "projectId": project, "funderId": funder, "kind": "GRANT", "status": "COMMITTED",
        "amount": amount, "currency": "EUR"
    });
    let data = app.data_as(token, CREATE_FUNDING, json!({ "input": input })).await;
    data["createFunding"]["id"].as_str().expect("an id").to_owned()
}

/// How many entries the change history holds.
pub async fn history_len(app: &TestApp) -> i64 {
    let data = app.data("{ changes { totalCount } }", json!({})).await;
    data["changes"]["totalCount"].as_i64().expect("a count")
}

on_both_databases! {
    async fn a_partner_is_created_changed_and_deleted(app) {
        let editor = app.token(Role::Editor).await;
        let unodc = app.partner_id("unodc").await;
        let mut input = partner_input("test-partner");
        input["acronymEn"] = json!("TP");
        input["parentId"] = json!(unodc);
        input["crimeAreas"] = json!(["terrorism", "cybercrime"]);
        let created = app.data_as(&editor, CREATE_PARTNER, json!({ "input": input })).await["createPartner"].clone();
        assert_eq!(created["version"], 1);
        assert_eq!(created["parent"]["slug"], "unodc");
        assert_eq!(created["crimeAreas"], json!([{ "slug": "terrorism" }, { "slug": "cybercrime" }]));
        let id = created["id"].as_str().expect("id").to_owned();

        let update = json!({ "input": {
            "id": id, "expectedVersion": 1, "nameEn": "Renamed Partner", "acronymEn": null,
            "parentId": null, "crimeAreas": ["corruption"]
        } });
        let updated = app.data_as(&editor, UPDATE_PARTNER, update).await["updatePartner"].clone();
        assert_eq!(updated["name"], "Renamed Partner");
        assert_eq!(updated["acronym"], Value::Null);
        assert_eq!(updated["parent"], Value::Null);
        assert_eq!(updated["crimeAreas"], json!([{ "slug": "corruption" }]));
        assert_eq!(updated["version"], 2);
        // Read back through the API: the change is stored, not just echoed.
        let read = app.data(r#"{ partner(slug: "test-partner") { name(lang: EN) nameFr: name(lang: FR) version } }"#, json!({})).await;
        assert_eq!(read["partner"], json!({ "name": "Renamed Partner", "nameFr": "Partenaire de test", "version": 2 }));

        let deleted = app.data_as(&editor, DELETE_PARTNER, json!({ "id": id, "v": 2 })).await["deletePartner"].clone();
        assert_eq!(deleted["deleted"], json!([id]));
        let gone = app.data("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(gone["node"], Value::Null);
        let history = app.data(r#"{ changes(kinds: [PARTNER]) { nodes { action recordId } } }"#, json!({})).await;
        let actions: Vec<&Value> = history["changes"]["nodes"].as_array().expect("list").iter().map(|c| &c["action"]).collect();
        assert_eq!(actions, [&json!("CREATE"), &json!("UPDATE"), &json!("DELETE")]);
    }

    async fn every_kind_of_record_is_created_and_read_back(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "funder-and-partner").await;
        let agreement_input = json!({
            "partnerId": partner, "reference": "TEST-2026-MOU", "titleEn": "Memorandum", "titleFr": "Protocole d'accord",
            "kind": "MEMORANDUM_OF_UNDERSTANDING", "status": "IN_FORCE",
            "signedOn": "2026-01-15", "effectiveFrom": "2026-02-01", "expiresOn": "2030-12-31"
        });
        let agreement = app.data_as(&editor, CREATE_AGREEMENT, json!({ "input": agreement_input })).await["createAgreement"].clone();
        assert_eq!(agreement["title"], "Protocole d'accord");
        assert_eq!(agreement["signedYear"], 2026, "the year follows from the day");
        assert_eq!(agreement["partner"]["slug"], "funder-and-partner");

        let project_input = json!({
            "agreementId": agreement["id"], "code": "TEST-PROJECT", "nameEn": "Border security", "nameFr": "Sécurité des frontières",
            "status": "ACTIVE", "startsOn": "2026-03-01", "endsOn": "2027-03-01",
            "crimeAreas": ["terrorism"], "policingGoals": [1, 3], "countries": ["ne", "ML"]
        });
        let project = app.data_as(&editor, CREATE_PROJECT, json!({ "input": project_input })).await["createProject"].clone();
        assert_eq!(project["agreement"]["reference"], "TEST-2026-MOU");
        assert_eq!(project["crimeAreas"], json!([{ "slug": "terrorism" }]));
        assert_eq!(project["policingGoals"], json!([{ "number": 1 }, { "number": 3 }]));
        assert_eq!(project["countries"], json!([{ "code": "ML" }, { "code": "NE" }]));

        let funding_input = json!({
            "projectId": project["id"], "funderId": partner, "kind": "GRANT", "status": "PLEDGED",
            "amount": "1250000.5", "currency": "eur", "programme": "Test programme", "committedOn": "2026-02-02"
        });
        let funding = app.data_as(&editor, CREATE_FUNDING, json!({ "input": funding_input })).await["createFunding"].clone();
        assert_eq!(funding["amount"], json!({ "amount": "1250000.50", "currency": "EUR" }));
        assert_eq!(funding["funder"]["slug"], "funder-and-partner");
        let totals = app.data(r#"{ project(code: "TEST-PROJECT") { totalFunding { amount currency } } }"#, json!({})).await;
        assert_eq!(totals["project"]["totalFunding"], json!([{ "amount": "1250000.50", "currency": "EUR" }]));
        // The search keys follow the text: the new project is found without its accents.
        let found = app.data(r#"{ search(query: "securite frontieres") { nodes { ... on Project { code } } } }"#, json!({})).await;
        assert!(found["search"]["nodes"].as_array().expect("list").contains(&json!({ "code": "TEST-PROJECT" })));
    }

    async fn an_update_changes_only_what_it_names(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "keeps-fields").await;
        let agreement = create_agreement(&app, &editor, &partner, "KEEP-1").await;
        let project = create_project(&app, &editor, &agreement, "KEEP-P").await;
        let funding = create_funding(&app, &editor, &project, &partner, "10.00").await;
        let update = r#"mutation($input: UpdateFundingInput!) { updateFunding(input: $input) { status amount { amount currency } version } }"#;
        let data = app.data_as(&editor, update, json!({ "input": { "id": funding, "expectedVersion": 1, "status": "DISBURSED" } })).await;
        assert_eq!(data["updateFunding"], json!({ "status": "DISBURSED", "amount": { "amount": "10.00", "currency": "EUR" }, "version": 2 }));
        let data = app.data_as(&editor, update, json!({ "input": { "id": funding, "expectedVersion": 2, "amount": null } })).await;
        assert_eq!(data["updateFunding"]["amount"], Value::Null, "null makes the amount undisclosed");
        let project_update = r#"mutation($input: UpdateProjectInput!) { updateProject(input: $input) { status countries { code } crimeAreas { slug } } }"#;
        let data = app
            .data_as(&editor, project_update, json!({ "input": { "id": project, "expectedVersion": 1, "countries": ["FR"] } }))
            .await;
        assert_eq!(data["updateProject"], json!({ "status": "ACTIVE", "countries": [{ "code": "FR" }], "crimeAreas": [] }));
    }

    async fn deletes_refuse_while_dependents_exist_unless_asked_to_cascade(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "has-dependents").await;
        let agreement = create_agreement(&app, &editor, &partner, "DEP-1").await;
        let project = create_project(&app, &editor, &agreement, "DEP-P").await;
        let funding = create_funding(&app, &editor, &project, &partner, "5").await;
        let before = history_len(&app).await;

        let delete_agreement = r#"mutation($id: ID!) { deleteAgreement(id: $id, expectedVersion: 1) { deleted } }"#;
        let body = app.graphql_as(&editor, delete_agreement, json!({ "id": agreement })).await;
        assert_eq!(error_code(&body), "CONFLICT");
        let body = app.graphql_as(&editor, DELETE_PARTNER, json!({ "id": partner, "v": 1 })).await;
        assert_eq!(error_code(&body), "CONFLICT");
        assert_eq!(history_len(&app).await, before, "a refused delete records nothing");
        let still = app.data("query($id: ID!) { node(id: $id) { ... on Partner { version } } }", json!({ "id": partner })).await;
        assert_eq!(still["node"]["version"], 1, "a refused delete does not touch the version");

        let data = app.data_as(&editor, DELETE_PARTNER, json!({ "id": partner, "v": 1, "cascade": true })).await;
        let deleted = data["deletePartner"]["deleted"].as_array().expect("list").clone();
        assert_eq!(deleted, vec![json!(partner), json!(agreement), json!(project), json!(funding)]);
        let nodes = app.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": deleted })).await;
        assert_eq!(nodes["nodes"], json!([null, null, null, null]));
        assert_eq!(history_len(&app).await, before + 4, "one history entry per deleted record");
    }

    async fn a_cascade_removes_a_whole_tree_of_partners_children_first(app) {
        let editor = app.token(Role::Editor).await;
        let root = create_partner(&app, &editor, "tree-root").await;
        let mut parent = root.clone();
        let mut ids = vec![root.clone()];
        for depth in 1..=3 {
            let mut input = partner_input(&format!("tree-{depth}"));
            input["parentId"] = json!(parent);
            let data = app.data_as(&editor, CREATE_PARTNER, json!({ "input": input })).await;
            parent = data["createPartner"]["id"].as_str().expect("an id").to_owned();
            ids.push(parent.clone());
        }
        // A funding by the deepest partner of someone else's project goes too.
        let sharaka = app.data(r#"{ project(code: "SHARAKA") { id fundings { totalCount } } }"#, json!({})).await;
        let before = sharaka["project"]["fundings"]["totalCount"].as_i64().expect("a count");
        let funding = create_funding(&app, &editor, sharaka["project"]["id"].as_str().expect("id"), &parent, "1").await;
        let body = app.graphql_as(&editor, DELETE_PARTNER, json!({ "id": root, "v": 1 })).await;
        assert_eq!(error_code(&body), "CONFLICT");
        let data = app.data_as(&editor, DELETE_PARTNER, json!({ "id": root, "v": 1, "cascade": true })).await;
        let deleted = data["deletePartner"]["deleted"].as_array().expect("list").clone();
        assert_eq!(deleted.len(), 5);
        assert_eq!(deleted[0], json!(root));
        assert!(deleted.contains(&json!(funding)));
        let nodes = app.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": ids })).await;
        assert_eq!(nodes["nodes"], json!([null, null, null, null]));
        let after = app.data(r#"{ project(code: "SHARAKA") { fundings { totalCount } } }"#, json!({})).await;
        assert_eq!(after["project"]["fundings"]["totalCount"], before, "the project itself stays");
    }

    async fn a_project_with_fundings_is_deleted_only_with_cascade(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "project-owner").await;
        let agreement = create_agreement(&app, &editor, &partner, "OWN-1").await;
        let project = create_project(&app, &editor, &agreement, "OWN-P").await;
        let funding = create_funding(&app, &editor, &project, &partner, "3").await;
        let delete = r#"mutation($id: ID!, $cascade: Boolean) { deleteProject(id: $id, expectedVersion: 1, cascade: $cascade) { deleted } }"#;
        let body = app.graphql_as(&editor, delete, json!({ "id": project })).await;
        assert_eq!(error_code(&body), "CONFLICT");
        let data = app.data_as(&editor, delete, json!({ "id": project, "cascade": true })).await;
        assert_eq!(data["deleteProject"]["deleted"], json!([project, funding]));
    }

    async fn required_fields_cannot_be_cleared(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "keeps-its-name").await;
        let body = app.graphql_as(&editor, UPDATE_PARTNER, json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": null } })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.nameEn");
        let read = app.data(r#"{ partner(slug: "keeps-its-name") { name(lang: EN) version } }"#, json!({})).await;
        assert_eq!(read["partner"], json!({ "name": "Test Partner", "version": 1 }));
    }

    async fn a_real_partner_with_children_cannot_be_deleted_without_cascade(app) {
        let editor = app.token(Role::Editor).await;
        let un = app.partner_id("united-nations").await;
        let body = app.graphql_as(&editor, DELETE_PARTNER, json!({ "id": un, "v": 1 })).await;
        assert_eq!(error_code(&body), "CONFLICT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "id");
        assert!(body["errors"][0]["message"].as_str().unwrap_or("").contains("cascade"));
    }

    async fn unknown_records_are_not_found_and_ids_of_the_wrong_type_are_bad_input(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "short-lived").await;
        app.data_as(&editor, DELETE_PARTNER, json!({ "id": partner, "v": 1 })).await;
        let body = app.graphql_as(&editor, UPDATE_PARTNER, json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": "x" } })).await;
        assert_eq!(error_code(&body), "NOT_FOUND");
        let project = app.data(r#"{ project(code: "SHARAKA") { id } }"#, json!({})).await["project"]["id"].clone();
        let body = app.graphql_as(&editor, UPDATE_PARTNER, json!({ "input": { "id": project, "expectedVersion": 1 } })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.id");
    }
}
