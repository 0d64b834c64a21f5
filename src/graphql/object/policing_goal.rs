//! `PolicingGoal`: one of INTERPOL's seven Global Policing Goals.

use entity::links::PolicingGoalProjects;

use super::Project;
use crate::graphql::declare::object;
use crate::graphql::input::{ProjectFilter, ProjectOrder};

object! {
    /// One of INTERPOL's seven Global Policing Goals, which frame its work within
    /// the UN 2030 Agenda for Sustainable Development.
    node PolicingGoal(policing_goal, "goal") {
        /// The goal's number, 1 to 7.
        fn number() reads(number) -> i32 { number }

        /// The goal's name.
        fn name(lang) reads(name_en, name_fr) -> &str { lang.pick(name_en, name_fr) }

        /// The projects that serve this goal.
        fn projects() -> Connection<Project> = nested(PolicingGoalProjects, ProjectFilter, ProjectOrder);
    }
}
