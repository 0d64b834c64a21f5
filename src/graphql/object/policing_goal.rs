//! `PolicingGoal`: one of INTERPOL's seven Global Policing Goals.

use entity::links::{PolicingGoalProjects, PolicingGoalSources};

use super::{Project, Source};
use crate::graphql::declare::object;
use crate::graphql::input::{ProjectFilter, ProjectOrder};

object! {
    /// One of INTERPOL's seven Global Policing Goals, which frame its work within
    /// the UN 2030 Agenda for Sustainable Development.
    node PolicingGoal(policing_goal, "goal") {
        /// The goal's number, 1 to 7.
        fn number() reads(number) -> i32 { number }

        /// The goal's name.
        fn name(lang) picks(name_en, name_fr) -> &str;

        /// What the goal covers and where it stands in the 2030 Agenda, when the sources say.
        fn description(lang) picks(description_en, description_fr) -> Option<&str>;

        /// The public pages this record's facts come from; empty for a record written through the API, whose facts are its writer's.
        fn sources() -> List<Source> = linked(PolicingGoalSources);

        /// The fields whose value in `lang` no cited page states: reference knowledge (an official website, the name in the other language…). Every other field with a value is stated by one of `sources`, as the dataset recorded it; `history` shows what changed since.
        fn reference_fields(lang) reads(reference_fields) -> Vec<&str> { super::reference_fields(reference_fields, lang) }

        /// The projects that serve this goal.
        fn projects() -> Connection<Project> = nested(PolicingGoalProjects, ProjectFilter, ProjectOrder);
    }
}
