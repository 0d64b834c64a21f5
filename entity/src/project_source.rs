//! `project_source`: a project relies on a source page.

crate::source_link!("project_source", project, project_id, ProjectId);
