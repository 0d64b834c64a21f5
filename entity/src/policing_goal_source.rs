//! `policing_goal_source`: a Global Policing Goal relies on a source page.

crate::source_link!("policing_goal_source", policing_goal, policing_goal_id, PolicingGoalId);
