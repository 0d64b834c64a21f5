//! `CrimeArea`: a field of crime partners and projects work on.

use entity::links::{CrimeAreaPartners, CrimeAreaProjects};

use super::{Partner, Project};
use crate::graphql::declare::object;
use crate::graphql::input::{PartnerFilter, PartnerOrder, ProjectFilter, ProjectOrder};

object! {
    /// A field of crime (terrorism, cybercrime, drug trafficking…) that partners
    /// work on with INTERPOL and projects address.
    node CrimeArea(crime_area, "crime area") {
        /// Stable key, e.g. `terrorism`.
        fn slug() reads(slug) -> &str { slug }

        /// The crime area's name.
        fn name(lang) reads(name_en, name_fr) -> &str { lang.pick(name_en, name_fr) }

        /// The partners that work on this crime area.
        fn partners() -> Connection<Partner> = nested(CrimeAreaPartners, PartnerFilter, PartnerOrder);

        /// The projects that address this crime area.
        fn projects() -> Connection<Project> = nested(CrimeAreaProjects, ProjectFilter, ProjectOrder);
    }
}
