//! `CrimeArea`: a field of crime partners and projects work on.

use entity::links::{CrimeAreaPartners, CrimeAreaProjects, CrimeAreaSources};

use super::{Partner, Project, Source};
use crate::graphql::declare::object;
use crate::graphql::input::{PartnerFilter, PartnerOrder, ProjectFilter, ProjectOrder};

object! {
    /// A field of crime (terrorism, cybercrime, drug trafficking…) that partners
    /// work on with INTERPOL and projects address.
    node CrimeArea(crime_area, "crime area") {
        /// Stable key, e.g. `terrorism`.
        fn slug() reads(slug) -> &str { slug }

        /// The crime area's name.
        fn name(lang) picks(name_en, name_fr) -> &str;

        /// The public pages this record's facts come from; empty for a record written through the API, whose facts are its writer's.
        fn sources() -> List<Source> = linked(CrimeAreaSources);

        /// The fields whose value in `lang` no cited page states: reference knowledge (an official website, the name in the other language…). Every other field with a value is stated by one of `sources`, as the dataset recorded it; `history` shows what changed since.
        fn reference_fields(lang) reads(reference_fields) -> Vec<&str> { super::reference_fields(reference_fields, lang) }

        /// The partners that work on this crime area.
        fn partners() -> Connection<Partner> = nested(CrimeAreaPartners, PartnerFilter, PartnerOrder);

        /// The projects that address this crime area.
        fn projects() -> Connection<Project> = nested(CrimeAreaProjects, ProjectFilter, ProjectOrder);
    }
}
