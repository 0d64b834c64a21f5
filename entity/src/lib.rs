//! sea-orm entities of the Partnership Registry: one module per table.

pub mod agreement;
pub mod api_token;
pub mod change_log;
pub mod crime_area;
pub mod enums;
pub mod funding;
pub mod partner;
pub mod partner_crime_area;
pub mod policing_goal;
pub mod project;
pub mod project_country;
pub mod project_crime_area;
pub mod project_policing_goal;
pub mod search;

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
}
