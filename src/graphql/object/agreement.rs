//! `Agreement`: what formalises a partnership.

use entity::enums::{AgreementKind, AgreementStatus};
use entity::links::{AgreementPartner, AgreementProjects, AgreementSources};

use super::{Change, Partner, Project, Source};
use crate::graphql::declare::object;
use crate::graphql::inline::Inline;
use crate::graphql::input::{ProjectFilter, ProjectOrder};
use crate::graphql::scalar::{Date, DateTimeUtc};

object! {
    /// What formalises a partnership: a cooperation agreement, observer status,
    /// a liaison office, a resolution, a funding or data-exchange agreement…
    node Agreement(agreement, "agreement") {
        /// Stable reference, e.g. `UN-1996-COOPERATION`.
        fn reference() reads(reference) -> &str { reference }

        /// The agreement's title.
        fn title(lang) picks(title_en, title_fr) -> &str;

        /// What the agreement provides for.
        fn summary(lang) picks(summary_en, summary_fr) -> Option<&str>;

        /// The form of the agreement.
        fn kind() reads(kind) -> AgreementKind { kind }

        /// Where the agreement stands.
        fn status() reads(status) -> AgreementStatus { status }

        /// The year it was signed or adopted; known more often than the day.
        fn signed_year() reads(signed_year) -> Option<i32> { signed_year }

        /// The day it was signed or adopted, when the sources give it.
        fn signed_on() reads(signed_on) -> Option<Date> { signed_on.map(Date) }

        /// The first day it applies.
        fn effective_from() reads(effective_from) -> Option<Date> { effective_from.map(Date) }

        /// The last day it applies, if it ends.
        fn expires_on() reads(expires_on) -> Option<Date> { expires_on.map(Date) }

        /// The first of `sources` with a public address; for a record written through the API, the page its writer gave.
        #[graphql(deprecation = "Use `sources`: a record may rely on several pages.")]
        fn source_url() reads(source_url) -> Option<&str> { source_url }

        /// The public pages this record's facts come from; empty for a record written through the API, whose facts are its writer's.
        fn sources() -> List<Source> = linked(AgreementSources);

        /// The fields whose value in `lang` no cited page states: reference knowledge (an official website, the name in the other language…). Every other field with a value is stated by one of `sources`, as the dataset recorded it; `history` shows what changed since.
        fn reference_fields(lang) reads(reference_fields) -> Vec<&str> { super::reference_fields(reference_fields, lang) }

        /// The partner on the other side of the agreement.
        fn partner() -> Inline<Partner> = to_one(AgreementPartner);

        /// The projects run under this agreement.
        fn projects() -> Connection<Project> = nested(AgreementProjects, ProjectFilter, ProjectOrder);

        /// The changes made to this agreement, oldest first (use `last` for the most recent).
        fn history() -> Connection<Change> = history;

        /// Incremented by every change; pass it back as `expectedVersion` when updating.
        fn version() reads(version) -> i32 { version }

        /// When the record was created.
        fn created_at() reads(created_at) -> DateTimeUtc { DateTimeUtc(created_at) }

        /// When the record last changed.
        fn updated_at() reads(updated_at) -> DateTimeUtc { DateTimeUtc(updated_at) }
    }
}
