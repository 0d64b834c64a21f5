//! sea-orm entities of the Partnership Registry: one module per table.

#[macro_use]
pub mod row;

pub mod agreement;
pub mod agreement_source;
pub mod api_token;
pub mod change_log;
pub mod crime_area;
pub mod crime_area_source;
pub mod enums;
pub mod funding;
pub mod funding_source;
pub mod links;
pub mod partner;
pub mod partner_crime_area;
pub mod partner_source;
pub mod policing_goal;
pub mod policing_goal_source;
pub mod project;
pub mod project_country;
pub mod project_crime_area;
pub mod project_policing_goal;
pub mod project_source;
pub mod search;
pub mod source;

pub mod prelude {
    pub use crate::agreement::Entity as Agreement;
    pub use crate::api_token::Entity as ApiToken;
    pub use crate::change_log::Entity as ChangeLog;
    pub use crate::crime_area::Entity as CrimeArea;
    pub use crate::funding::Entity as Funding;
    pub use crate::partner::Entity as Partner;
    pub use crate::partner_crime_area::Entity as PartnerCrimeArea;
    pub use crate::policing_goal::Entity as PolicingGoal;
    pub use crate::project::Entity as Project;
    pub use crate::project_country::Entity as ProjectCountry;
    pub use crate::project_crime_area::Entity as ProjectCrimeArea;
    pub use crate::project_policing_goal::Entity as ProjectPolicingGoal;
    pub use crate::source::Entity as Source;
}

use sea_orm::EntityTrait;

/// A table written through the API: its rows are versioned, and each
/// hangs off a parent record (the partner of an agreement…).
pub trait Record: EntityTrait {
    /// The primary key.
    const ID: Self::Column;
    /// Incremented by every change.
    const VERSION: Self::Column;
    /// The record a row hangs off.
    const PARENT: Self::Column;
}

impl Record for partner::Entity {
    const ID: partner::Column = partner::Column::Id;
    const VERSION: partner::Column = partner::Column::Version;
    const PARENT: partner::Column = partner::Column::ParentId;
}

impl Record for agreement::Entity {
    const ID: agreement::Column = agreement::Column::Id;
    const VERSION: agreement::Column = agreement::Column::Version;
    const PARENT: agreement::Column = agreement::Column::PartnerId;
}

impl Record for project::Entity {
    const ID: project::Column = project::Column::Id;
    const VERSION: project::Column = project::Column::Version;
    const PARENT: project::Column = project::Column::AgreementId;
}

impl Record for funding::Entity {
    const ID: funding::Column = funding::Column::Id;
    const VERSION: funding::Column = funding::Column::Version;
    const PARENT: funding::Column = funding::Column::ProjectId;
}
