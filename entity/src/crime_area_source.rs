//! `crime_area_source`: a crime area relies on a source page.

crate::source_link!("crime_area_source", crime_area, crime_area_id, CrimeAreaId);
