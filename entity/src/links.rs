//! The relations the API follows from one record to others, each a named
//! sea-orm path (`Linked`) made of the entities' own relations: the server
//! takes the tables, keys and joins of its batched statements from these,
//! and the types say which entity each path starts and ends at.

use sea_orm::{Linked, RelationDef, RelationTrait};

use crate::{
    agreement, agreement_source, crime_area, crime_area_source, funding, funding_source, partner, partner_crime_area,
    partner_source, policing_goal, policing_goal_source, project, project_crime_area, project_policing_goal,
    project_source, source,
};

macro_rules! links {
    ($( $(#[$doc:meta])* $name:ident: $from:ident -> $to:ident = [$($def:expr),+ $(,)?]; )+) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Linked for $name {
            type FromEntity = $from::Entity;
            type ToEntity = $to::Entity;

            fn link(&self) -> Vec<RelationDef> {
                vec![$($def),+]
            }
        }
    )+};
}

links! {
    /// The organisation a partner is part of.
    PartnerParent: partner -> partner = [partner::Relation::Parent.def()];
    /// The organisations that are part of a partner.
    PartnerChildren: partner -> partner = [partner::Relation::Parent.def().rev()];
    /// A partner's agreements.
    PartnerAgreements: partner -> agreement = [agreement::Relation::Partner.def().rev()];
    /// The fundings a partner provides.
    PartnerFundingsProvided: partner -> funding = [funding::Relation::Funder.def().rev()];
    /// The crime areas a partner works on.
    PartnerCrimeAreas: partner -> crime_area = [
        partner_crime_area::Relation::Partner.def().rev(),
        partner_crime_area::Relation::CrimeArea.def(),
    ];
    /// The partner on the other side of an agreement.
    AgreementPartner: agreement -> partner = [agreement::Relation::Partner.def()];
    /// The projects run under an agreement.
    AgreementProjects: agreement -> project = [project::Relation::Agreement.def().rev()];
    /// The agreement a project runs under.
    ProjectAgreement: project -> agreement = [project::Relation::Agreement.def()];
    /// The partner of a project's agreement.
    ProjectPartner: project -> partner = [project::Relation::Agreement.def(), agreement::Relation::Partner.def()];
    /// The fundings of a project.
    ProjectFundings: project -> funding = [funding::Relation::Project.def().rev()];
    /// The partners funding a project.
    ProjectFunders: project -> partner = [funding::Relation::Project.def().rev(), funding::Relation::Funder.def()];
    /// The crime areas a project addresses.
    ProjectCrimeAreas: project -> crime_area = [
        project_crime_area::Relation::Project.def().rev(),
        project_crime_area::Relation::CrimeArea.def(),
    ];
    /// The Global Policing Goals a project serves.
    ProjectPolicingGoals: project -> policing_goal = [
        project_policing_goal::Relation::Project.def().rev(),
        project_policing_goal::Relation::PolicingGoal.def(),
    ];
    /// The project a funding pays for.
    FundingProject: funding -> project = [funding::Relation::Project.def()];
    /// The partner providing a funding.
    FundingFunder: funding -> partner = [funding::Relation::Funder.def()];
    /// The partners working on a crime area.
    CrimeAreaPartners: crime_area -> partner = [
        partner_crime_area::Relation::CrimeArea.def().rev(),
        partner_crime_area::Relation::Partner.def(),
    ];
    /// The projects addressing a crime area.
    CrimeAreaProjects: crime_area -> project = [
        project_crime_area::Relation::CrimeArea.def().rev(),
        project_crime_area::Relation::Project.def(),
    ];
    /// The projects serving a Global Policing Goal.
    PolicingGoalProjects: policing_goal -> project = [
        project_policing_goal::Relation::PolicingGoal.def().rev(),
        project_policing_goal::Relation::Project.def(),
    ];
    /// The source pages a crime area's facts come from.
    CrimeAreaSources: crime_area -> source = [
        crime_area_source::Relation::Record.def().rev(),
        crime_area_source::Relation::Source.def(),
    ];
    /// The source pages a Global Policing Goal's facts come from.
    PolicingGoalSources: policing_goal -> source = [
        policing_goal_source::Relation::Record.def().rev(),
        policing_goal_source::Relation::Source.def(),
    ];
    /// The source pages a partner's facts come from.
    PartnerSources: partner -> source = [
        partner_source::Relation::Record.def().rev(),
        partner_source::Relation::Source.def(),
    ];
    /// The source pages an agreement's facts come from.
    AgreementSources: agreement -> source = [
        agreement_source::Relation::Record.def().rev(),
        agreement_source::Relation::Source.def(),
    ];
    /// The source pages a project's facts come from.
    ProjectSources: project -> source = [
        project_source::Relation::Record.def().rev(),
        project_source::Relation::Source.def(),
    ];
    /// The source pages a funding's facts come from.
    FundingSources: funding -> source = [
        funding_source::Relation::Record.def().rev(),
        funding_source::Relation::Source.def(),
    ];
}
